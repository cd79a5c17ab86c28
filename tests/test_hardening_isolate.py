"""Run a risky call in a forked child under a time and memory limit (the hardening tests'
harness), and check that the harness itself reports what can go wrong.

:func:`isolated` forks, caps the child's address space at its current size + ``memory``,
runs ``fn`` with every warning recorded, and sends back an :class:`Outcome`. A child killed
by a signal (SIGBUS, SIGSEGV, SIGKILL), a child over time (killed) or one that ran out of
memory is reported as such, so the test fails instead of pytest dying or hanging.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import resource
import select
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

MiB = 1 << 20


@dataclass
class Outcome:
    value: Any = None
    error: type[BaseException] | None = None
    message: str = ""
    warnings: list[tuple[type[Warning], str]] = field(default_factory=list)
    seconds: float = 0.0
    signal: int | None = None  # the child died of this signal
    timed_out: bool = False

    def warned(self, category: type[Warning]) -> list[str]:
        return [msg for cat, msg in self.warnings if issubclass(cat, category)]


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def isolated(fn: Callable[..., Any], *args: Any, timeout: float = 5.0,
             memory: int = 512 * MiB) -> Outcome:
    """``fn(*args)`` in a forked child with ``timeout`` seconds and ``memory`` more bytes of
    address space than the child starts with."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 0
        try:
            os.close(read_end)
            faulthandler.disable()  # a signal is the parent's to report, not a dump
            limit = _vm_size() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            out = Outcome()
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    out.value = fn(*args)
                except BaseException as exc:
                    out.error, out.message = type(exc), str(exc)
            out.seconds = time.perf_counter() - t0
            out.warnings = [(w.category, str(w.message)) for w in caught]
            try:
                data = pickle.dumps(out)
            except Exception as exc:
                data = pickle.dumps(Outcome(error=RuntimeError, message=f"unpicklable: {exc}",
                                            seconds=out.seconds))
            with os.fdopen(write_end, "wb") as fh:
                fh.write(data)
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + timeout + 2.0  # fork + pickling overhead
    chunks = []
    timed_out = False
    with os.fdopen(read_end, "rb") as fh:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([fh], [], [], left)
            if not ready:
                continue
            chunk = os.read(fh.fileno(), 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return Outcome(timed_out=True, seconds=timeout)
    if os.WIFSIGNALED(status):
        return Outcome(signal=os.WTERMSIG(status))
    if not chunks:
        return Outcome(error=RuntimeError, message=f"child exited {os.WEXITSTATUS(status)}")
    out = pickle.loads(b"".join(chunks))
    assert isinstance(out, Outcome)
    return out


def _sleep() -> None:
    time.sleep(30)


def _allocate() -> int:
    return len(bytearray(2048 * MiB))


def _sigbus() -> None:
    os.kill(os.getpid(), signal.SIGBUS)


def test_a_signal_in_the_child_is_reported() -> None:
    out = isolated(_sigbus)
    assert out.signal == signal.SIGBUS


def test_a_hang_is_reported() -> None:
    t0 = time.monotonic()
    out = isolated(_sleep, timeout=0.5)
    assert out.timed_out and time.monotonic() - t0 < 5


def test_memory_beyond_the_limit_fails() -> None:
    out = isolated(_allocate)
    assert out.error is MemoryError


def test_values_errors_and_warnings_come_back() -> None:
    def work() -> int:
        warnings.warn("careful", UserWarning, stacklevel=1)
        raise KeyError("nope")

    out = isolated(work)
    assert out.error is KeyError and out.warned(UserWarning) == ["careful"]
    assert isolated(sum, [1, 2, 3]).value == 6


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
