"""Read the plain data of an untrusted pickle without building any of its classes.

A pickle names callables (``module.name``) and the standard unpickler imports and calls them:
loading an untrusted pickle can run anything. :func:`read_inert` runs CPython's own pickle
machine with a ``find_class`` that never imports anything: every name the pickle asks for
becomes a fresh subclass of :class:`Record`, a feder class whose constructor and
``__setstate__`` only store their arguments. The pickle machine calls nothing else — it has
no attribute access of its own; ``REDUCE`` / ``NEWOBJ`` / ``BUILD`` / ``INST`` / ``OBJ`` reach
only what ``find_class`` returned, persistent ids and out-of-band buffers are refused by the
unpickler, and lists, dicts, sets and tuples are filled by their built-in methods. So no code
of the pickle's choosing runs, whatever it names (``os.system`` included): the result is a
tree of plain values and records that a caller inspects by class *name*.

Resources are bounded before the pickle machine runs: the opcodes are first walked with
:func:`pickletools.genops` (which checks that every counted string or bytes fits in the data,
so the machine never pre-allocates a length the data does not hold), their number is capped
(:data:`MAX_OPCODES`: each opcode makes at most a few small objects) and so is the number of
distinct names (:data:`MAX_NAMES`).
"""

from __future__ import annotations

import io
import pickle
import pickletools
from typing import Any, ClassVar

from ..errors import IndexFormatError

MAX_OPCODES = 30_000_000
"""Opcodes an inert read accepts (≈ 0.6 µs each to check; a LangChain store has ≈ 40 per
document, so ≈ 700,000 documents)."""
MAX_NAMES = 1_000
"""Distinct ``module.name`` globals an inert read accepts (each becomes a small class)."""


class Record:
    """An object the pickle asked for, recorded and never built.

    ``module`` / ``name``: the global the pickle named (class attributes of the record's own
    class); ``args`` / ``kwargs``: what the pickle called it with (``NEWOBJ``/``REDUCE``);
    ``state``: what ``BUILD`` gave it (``None`` if nothing)."""

    __slots__ = ("args", "kwargs", "state")
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    state: Any
    module: ClassVar[str] = ""
    name: ClassVar[str] = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> Record:
        self = object.__new__(cls)
        self.args = args
        self.kwargs = kwargs
        self.state = None
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # everything was kept by __new__
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    @classmethod
    def qualname(cls) -> str:
        return f"{cls.module}.{cls.name}"

    def __repr__(self) -> str:
        return f"<inert {self.qualname()}>"


class _InertUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes):
        super().__init__(io.BytesIO(data))
        self.records: dict[tuple[str, str], type[Record]] = {}

    def find_class(self, module: str, name: str) -> Any:  # pickle's hook
        key = (str(module), str(name))
        found = self.records.get(key)
        if found is None:
            if len(self.records) >= MAX_NAMES:
                raise IndexFormatError(f"the pickle names more than {MAX_NAMES} distinct "
                                       "classes or functions")
            found = type("Record", (Record,), {"__slots__": (), "module": key[0],
                                               "name": key[1]})
            self.records[key] = found
        return found


def read_inert(data: bytes, what: str) -> Any:
    """The plain data of the pickle ``data``: containers, scalars and :class:`Record` s (one
    per object or call of a named class or function, never built). ``what`` names the file in
    errors. Raises :class:`IndexFormatError` for a corrupt, truncated or oversized pickle."""
    try:
        for count, _ in enumerate(pickletools.genops(data), 1):
            if count > MAX_OPCODES:
                raise IndexFormatError(f"{what} holds more than {MAX_OPCODES:,} pickle opcodes: "
                                       "too large to read safely")
        return _InertUnpickler(data).load()
    except IndexFormatError:
        raise
    except RecursionError:
        raise IndexFormatError(f"{what} nests too deeply to read") from None
    except Exception as exc:  # truncated or corrupt pickles raise many kinds
        raise IndexFormatError(f"{what} is not a readable pickle: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None


def class_name(value: Any) -> str | None:
    """``"module.name"`` of the class a record stands for (seeing through
    ``copyreg._reconstructor``, which older protocols use), or ``None`` for plain data."""
    if not isinstance(value, Record):
        return None
    if value.qualname() == "copyreg._reconstructor" and value.args and \
            isinstance(value.args[0], type) and issubclass(value.args[0], Record):
        return value.args[0].qualname()
    return value.qualname()


def state_of(value: Any) -> Any:
    """The state a record was given (``BUILD``), or ``None``."""
    return value.state if isinstance(value, Record) else None
