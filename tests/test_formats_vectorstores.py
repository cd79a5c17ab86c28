"""LangChain ``FAISS`` and LlamaIndex ``FaissVectorStore``: real stores built here (a few
hundred short texts, deterministic hash embeddings, no model, no network), read live and from
the folders the libraries save. feder's search must name and score exactly what the library's
own ``similarity_search_with_score`` / retriever returns; LangChain's ``index.pkl`` must never
run code unless the user opts in; reports show the documents' texts."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest
from langchain_community.docstore.in_memory import InMemoryDocstore
from langchain_community.vectorstores import FAISS
from langchain_community.vectorstores.utils import DistanceStrategy
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from llama_index.core import Document as LlamaDocument
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode
from llama_index.vector_stores.faiss import FaissMapVectorStore, FaissVectorStore

import feder
from feder import FederError, FederPy, FederWarning, IndexFormatError, ParameterError
from feder.cli import main as cli_main
from feder.integrations import inert_pickle

from browser_util import RequestLog, chromium_available, launch_chromium  # isort: skip

DIM = 16
N = 300
TOPICS = ("cats", "dogs", "rivers", "trains", "violins")
TEXTS = [f"note {i}: a short text about {TOPICS[i % len(TOPICS)]} and the number {i * 7 % 97}"
         for i in range(N)]
QUERIES = ["a text about trains", "violins and rivers", "the number 42", TEXTS[17], TEXTS[250]]


@pytest.fixture(scope="module", autouse=True)
def no_network() -> Any:
    """Building and searching the stores must not reach the network (no model download, no
    tokenizer fetch, no LLM): any non-loopback connection fails the test."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and \
                host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access to {address!r} during a vector-store test")
        return real(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        yield


class HashEmbedding(BaseEmbedding):
    """LlamaIndex embedding: a seeded normal vector per text (sha256), no model."""

    dim: int = DIM

    def _vec(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)


LC_EMBED = DeterministicFakeEmbedding(size=DIM)


# ---- LangChain ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lc_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """``{strategy: (live FAISS store, its save_local folder)}`` for L2 and inner product."""
    out = {}
    for name, strategy in (("l2", DistanceStrategy.EUCLIDEAN_DISTANCE),
                           ("ip", DistanceStrategy.MAX_INNER_PRODUCT)):
        store = FAISS.from_texts(TEXTS, LC_EMBED, metadatas=[{"i": i} for i in range(N)],
                                 distance_strategy=strategy)
        folder = tmp_path_factory.mktemp(f"lc-{name}")
        store.save_local(str(folder))
        out[name] = (store, folder)
    return out


def _lc_expected(store: Any, query: str, k: int) -> tuple[list[str], list[str], np.ndarray]:
    found = store.similarity_search_with_score(query, k=k)
    return ([doc.id for doc, _ in found], [doc.page_content for doc, _ in found],
            np.asarray([score for _, score in found], np.float64))


@pytest.mark.parametrize("strategy", ["l2", "ip"])
@pytest.mark.parametrize("how", ["live", "folder", "folder-opted-in"])
def test_langchain_search_equals_similarity_search(lc_stores: dict[str, tuple[Any, Path]],
                                                   strategy: str, how: str) -> None:
    store, folder = lc_stores[strategy]
    if how == "live":
        idx = feder.load_index(store)
    else:
        idx = feder.load_index(folder, allow_dangerous_deserialization=how != "folder")
    assert idx.metric == strategy and idx.ntotal == N
    docs = idx.documents
    assert docs is not None and docs.texts is not None and len(docs) == N
    for query in QUERIES:
        ids, texts, scores = _lc_expected(store, query, 6)
        trace = idx.search(np.asarray(LC_EMBED.embed_query(query), np.float32), k=6)
        assert [docs.name(i) for i in trace.ids] == ids, query
        assert [docs.text(i) for i in trace.ids] == texts, query
        np.testing.assert_allclose(trace.distances, scores, rtol=1e-5, atol=1e-5)
        # the store's ids lead back to the faiss ids
        assert [docs.ident(name) for name in ids] == trace.ids.tolist()


def test_langchain_folder_reads_no_pickle_by_default(lc_stores: dict[str, tuple[Any, Path]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The default read of index.pkl never calls the real unpickler (inert data only)."""
    _, folder = lc_stores["l2"]

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("index.pkl was unpickled without opt-in")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    idx = feder.load_index(folder)
    assert idx.documents is not None and idx.documents.texts is not None
    assert "inert" in idx.documents.note
    with pytest.raises(FederError, match="without opt-in"):
        feder.load_index(folder, allow_dangerous_deserialization=True)


class _Touch:
    """Unpickling this creates ``path`` (the classic pickle attack, made harmless)."""

    def __init__(self, path: Path, how: str):
        self.path, self.how = path, how

    def __reduce__(self) -> Any:
        if self.how == "system":
            return (os.system, (f"touch {self.path}",))
        if self.how == "exec":
            return (exec, (f"open({str(self.path)!r}, 'w').close()",))
        return (Path.touch, (self.path,))


def _hostile_pickles(sentinel: Path) -> dict[str, Any]:
    doc = Document(page_content="harmless")
    return {
        "top-level": _Touch(sentinel, "system"),
        "as-docstore": (_Touch(sentinel, "exec"), {0: "a"}),
        "inside-a-document": (InMemoryDocstore({"a": _Touch(sentinel, "touch")}), {0: "a"}),
        "in-metadata": (InMemoryDocstore({"a": Document(page_content="x", metadata={
            "evil": _Touch(sentinel, "system")})}), {0: "a"}),
        "as-id-table": (InMemoryDocstore({"a": doc}), _Touch(sentinel, "exec")),
    }


@pytest.mark.parametrize("case", ["top-level", "as-docstore", "inside-a-document",
                                  "in-metadata", "as-id-table"])
def test_langchain_hostile_pickle_runs_nothing(lc_stores: dict[str, tuple[Any, Path]],
                                               tmp_path: Path, case: str) -> None:
    _, saved = lc_stores["l2"]
    folder = tmp_path / "store"
    folder.mkdir()
    shutil.copy(saved / "index.faiss", folder / "index.faiss")
    sentinel = tmp_path / "pwned"
    (folder / "index.pkl").write_bytes(pickle.dumps(_hostile_pickles(sentinel)[case]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idx = feder.load_index(folder)
        fed = FederPy(folder)
    assert not sentinel.exists(), "index.pkl ran code without opt-in"
    assert idx.ntotal == N and fed.index.ntotal == N
    docs = idx.documents
    assert docs is not None
    if case == "in-metadata":  # the document's text is plain data: shown, metadata ignored
        assert docs.texts == {0: "x"} and not caught
    else:
        assert docs.texts is None
        mine = [w for w in caught if issubclass(w.category, FederWarning)]
        assert len(mine) == 2  # once per load (load_index, FederPy)
        message = str(mine[0].message)
        assert "documents are not shown" in message
        assert "allow_dangerous_deserialization=True" in message
    # opting in really unpickles (the sentinel proves the check above could fail)
    with contextlib.suppress(FederError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feder.load_index(folder, allow_dangerous_deserialization=True)
    assert sentinel.exists()


class _ShelfDocstore:
    """A docstore that is not LangChain's InMemoryDocstore (as a user may write)."""

    def __init__(self, docs: dict[str, Document]):
        self.docs = docs

    def search(self, search: str) -> Document | str:
        return self.docs.get(search, f"ID {search} not found.")


def test_langchain_custom_docstore_needs_opt_in(lc_stores: dict[str, tuple[Any, Path]],
                                                tmp_path: Path) -> None:
    store, _ = lc_stores["l2"]
    custom = FAISS(LC_EMBED, faiss.deserialize_index(faiss.serialize_index(store.index)),
                   _ShelfDocstore({k: store.docstore.search(k)
                                   for k in store.index_to_docstore_id.values()}),
                   dict(store.index_to_docstore_id))
    custom.save_local(str(tmp_path), index_name="shelf")  # a non-default name too
    with pytest.warns(FederWarning, match="_ShelfDocstore.*allow_dangerous_deserialization"):
        idx = feder.load_index(tmp_path)
    assert idx.documents is not None and idx.documents.texts is None
    assert idx.documents.name(3) == store.index_to_docstore_id[3]  # ids are plain data
    opted = feder.load_index(tmp_path, allow_dangerous_deserialization=True)
    assert opted.documents is not None and opted.documents.texts is not None
    assert opted.documents.text(3) == TEXTS[3]
    live = feder.load_index(custom)  # a live store: its docstore is searched directly
    assert live.documents is not None and live.documents.text(4) == TEXTS[4]


def test_inert_pickle_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Corrupt or oversized pickles are refused before the pickle machine allocates."""
    huge_bytes = b"\x80\x04\x8e" + (1 << 60).to_bytes(8, "little") + b"abc."  # BINBYTES8
    truncated = pickle.dumps({"a": "b" * 100})[:-20]
    for data in (huge_bytes, truncated, b"", b"not a pickle"):
        with pytest.raises(IndexFormatError, match="not a readable pickle"):
            inert_pickle.read_inert(data, "index.pkl")
    monkeypatch.setattr(inert_pickle, "MAX_OPCODES", 50)
    with pytest.raises(IndexFormatError, match="more than 50"):
        inert_pickle.read_inert(pickle.dumps(list(range(100))), "index.pkl")
    monkeypatch.setattr(inert_pickle, "MAX_OPCODES", 10**6)
    monkeypatch.setattr(inert_pickle, "MAX_NAMES", 2)
    with pytest.raises(IndexFormatError, match="more than 2 distinct"):
        inert_pickle.read_inert(pickle.dumps([os.system, os.getcwd, exec]), "index.pkl")
    # names are recorded, never resolved: even os.system comes back as an inert record
    record = inert_pickle.read_inert(pickle.dumps([os.system]), "index.pkl")[0]
    assert isinstance(record, type) and record.qualname() == "posix.system"


def test_mutated_index_pkl_fails_cleanly(lc_stores: dict[str, tuple[Any, Path]]) -> None:
    """Random byte flips and truncations of a real index.pkl give documents or an
    IndexFormatError, never another exception."""
    from feder.integrations import langchain

    data = (lc_stores["l2"][1] / "index.pkl").read_bytes()
    rng = np.random.default_rng(3)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(150):
        mutated = bytearray(data)
        for at in rng.integers(0, len(data), int(rng.integers(1, 6))).tolist():
            mutated[at] = int(rng.integers(0, 256))
        if rng.random() < 0.3:
            mutated = mutated[: int(rng.integers(0, len(mutated)))]
        try:
            langchain._inert(bytes(mutated), "index.pkl")
            outcomes["read"] += 1
        except IndexFormatError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == 150


# ---- LlamaIndex --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def li_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """``{name: (VectorStoreIndex, its persisted folder)}``: a FaissVectorStore over
    IndexFlatL2 with text nodes, and a FaissMapVectorStore over IndexIDMap2(IndexFlatIP)
    with documents."""
    embed = HashEmbedding()
    out = {}
    nodes = [TextNode(text=text, id_=f"node-{i:03d}") for i, text in enumerate(TEXTS)]
    plain = FaissVectorStore(faiss_index=faiss.IndexFlatL2(DIM))
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(
        vector_store=plain), embed_model=embed)
    folder = tmp_path_factory.mktemp("li-flat")
    index.storage_context.persist(str(folder))
    out["flat-l2"] = (index, folder)
    mapped = FaissMapVectorStore(faiss_index=faiss.IndexIDMap2(faiss.IndexFlatIP(DIM)))
    documents = [LlamaDocument(text=text, id_=f"doc-{i}") for i, text in enumerate(TEXTS[:120])]
    index = VectorStoreIndex.from_documents(documents, storage_context=StorageContext.from_defaults(
        vector_store=mapped), embed_model=embed, transformations=[])
    folder = tmp_path_factory.mktemp("li-map")
    index.storage_context.persist(str(folder))
    out["idmap-ip"] = (index, folder)
    return out


@pytest.mark.parametrize("name", ["flat-l2", "idmap-ip"])
@pytest.mark.parametrize("how", ["live", "folder"])
def test_llamaindex_search_equals_retriever(li_stores: dict[str, tuple[Any, Path]], name: str,
                                            how: str) -> None:
    index, folder = li_stores[name]
    assert {"default__vector_store.json", "docstore.json", "index_store.json"} <= \
        set(os.listdir(folder))
    assert (folder / "default__vector_store.json").read_bytes()[:4] in (b"IxF2", b"IxM2")
    idx = feder.load_index(index if how == "live" else folder)
    docs = idx.documents
    assert docs is not None and docs.texts is not None
    assert len(docs.texts) == idx.ntotal == (N if name == "flat-l2" else 120)
    retriever = index.as_retriever(similarity_top_k=6)
    for query in QUERIES:
        found = retriever.retrieve(query)
        trace = idx.search(np.asarray(HashEmbedding().get_query_embedding(query), np.float32),
                           k=6)
        assert [docs.name(i) for i in trace.ids] == [n.node.node_id for n in found], query
        assert [docs.text(i) for i in trace.ids] == [n.node.get_content() for n in found]
        np.testing.assert_allclose(trace.distances, [n.score for n in found], rtol=1e-5,
                                   atol=1e-5)


def test_llamaindex_bare_vector_store_warns_once(li_stores: dict[str, tuple[Any, Path]],
                                                 ) -> None:
    index, _ = li_stores["flat-l2"]
    with pytest.warns(FederWarning, match="keeps no texts") as caught:
        idx = feder.load_index(index.vector_store)
    assert len(caught) == 1
    assert idx.ntotal == N and idx.documents is not None and idx.documents.texts is None
    assert idx.documents.name(7) == "7"  # FaissVectorStore.query's own ids: str(row)


# ---- detection and refusals --------------------------------------------------------------


def test_folder_detection_and_refusals(lc_stores: dict[str, tuple[Any, Path]],
                                       li_stores: dict[str, tuple[Any, Path]],
                                       tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IndexFormatError) as info:
        feder.load_index(empty)
    for expected in ("index.faiss", "index.pkl", "default__vector_store.json", "chroma"):
        assert expected in str(info.value)
    # LlamaIndex's default vector store (SimpleVectorStore, JSON) is no faiss index
    simple = VectorStoreIndex([TextNode(text=t, id_=t) for t in TEXTS[:3]],
                              embed_model=HashEmbedding())
    with pytest.raises(ParameterError, match="SimpleVectorStore"):
        feder.load_index(simple)
    simple.storage_context.persist(str(tmp_path / "simple"))
    with pytest.raises(IndexFormatError, match="SimpleVectorStore"):
        feder.load_index(tmp_path / "simple")
    # a broken docstore.json is an error, not a crash
    broken = tmp_path / "broken"
    shutil.copytree(li_stores["flat-l2"][1], broken)
    (broken / "docstore.json").write_text('{"docstore/data": ')
    with pytest.raises(IndexFormatError, match=r"docstore\.json is not valid JSON"):
        feder.load_index(broken)
    _, lc_folder = lc_stores["l2"]
    with pytest.raises(ParameterError, match=r"'hnswlib'.*LangChain"):
        feder.load_index(lc_folder, "hnswlib")
    assert feder.load_index(lc_folder, "langchain").ntotal == N
    with pytest.raises(ParameterError, match="space applies to hnswlib"):
        feder.load_index(lc_folder, space="cosine")
    with pytest.raises(ParameterError, match="LlamaIndex"):
        feder.load_index(lc_folder / "index.faiss", "llamaindex")
    with pytest.raises(feder.UnknownIdError, match="not an id of this LangChain"):
        FederPy(lc_folder).searchById("no-such-document")


def test_detection_imports_neither_library(lc_stores: dict[str, tuple[Any, Path]],
                                           li_stores: dict[str, tuple[Any, Path]]) -> None:
    """Reading saved folders needs neither LangChain nor LlamaIndex importable."""
    code = (
        "import sys, feder\n"
        "for name in ('langchain_community', 'langchain_core', 'llama_index'):\n"
        "    sys.modules[name] = None  # importing them now fails\n"
        f"a = feder.load_index({str(lc_stores['l2'][1])!r})\n"
        f"b = feder.load_index({str(li_stores['flat-l2'][1])!r})\n"
        "print(a.documents.text(3), '|', b.documents.text(3))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{TEXTS[3]} | {TEXTS[3]}"


# ---- reports and the command line --------------------------------------------------------


def test_federpy_on_stores_shows_documents(lc_stores: dict[str, tuple[Any, Path]],
                                           li_stores: dict[str, tuple[Any, Path]],
                                           tmp_path: Path) -> None:
    store, _ = lc_stores["l2"]
    doc_id = store.index_to_docstore_id[17]
    lc = FederPy(store, width=900, height=520).setSearchParams(k=5)
    lc_search = lc.searchById(doc_id)
    ids, texts, _ = _lc_expected(store, TEXTS[17], 5)
    assert lc_search.trace.ids[0] == 17
    li_index, li_folder = li_stores["flat-l2"]
    li = FederPy(li_folder, width=900, height=520).setSearchParams(k=5)
    query = TEXTS[250]
    li_search = li.searchByVec(HashEmbedding().get_query_embedding(query), query)
    found = li_index.as_retriever(similarity_top_k=5).retrieve(query)
    for widget, names, shown in ((lc_search, ids, texts),
                                 (li_search, [n.node.node_id for n in found],
                                  [n.node.get_content() for n in found])):
        state = widget.export_state()
        assert state["media"]["media_type"] == "text"
        result_ids = [str(i) for i in widget.trace.ids]
        assert [state["search"]["names"][i] for i in result_ids] == names
        assert [state["media"]["items"][i]["text"] for i in result_ids] == shown
    assert "LangChain FAISS" in lc.session.params.title
    # mediaUrls given by the user win over the store's texts
    own = FederPy(store, mediaUrls=[f"mine {i}" for i in range(N)], mediaType="text")
    assert own.media.item(3)["text"] == "mine 3"
    report = lc.export_html(tmp_path / "lc.html", [lc_search])
    li.export_html(tmp_path / "li.html", [li_search])
    if not chromium_available():
        pytest.fail("the report check needs /usr/bin/chromium and playwright (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log = RequestLog.attach(page)
        for path, names, shown in ((report, ids, texts),
                                   (tmp_path / "li.html", [n.node.node_id for n in found],
                                    [n.node.get_content() for n in found])):
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-feder-ready='1']", timeout=20_000)
            root = page.locator(".feder-root").nth(1)
            cards = root.locator(".feder-strip figure[data-rank]")
            assert cards.count() == 5, path.name
            strip = root.locator(".feder-strip").text_content() or ""
            for text in shown:
                assert text[:40] in strip, (path.name, text, strip[:300])
            assert names[0][:8] in strip, (path.name, names[0], strip[:300])
        assert log.page_errors == [] and log.console_errors == [] and log.external == []
        browser.close()


def test_cli_report_on_a_langchain_folder(lc_stores: dict[str, tuple[Any, Path]],
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          ) -> None:
    store, saved = lc_stores["l2"]
    folder = tmp_path / "store"
    shutil.copytree(saved, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    doc_id = store.index_to_docstore_id[42]
    out = tmp_path / "report.html"
    assert cli_main(["report", str(folder), "--query-id", doc_id, "--k", "4",
                     "-o", str(out)]) == 0
    html = out.read_text()
    assert TEXTS[42] in html and doc_id in html
    # never onto an input: index.pkl / index.faiss are refused as outputs, left untouched
    for name in ("index.pkl", "index.faiss"):
        assert cli_main(["report", str(folder), "-o", str(folder / name)]) == 2
        assert "onto the input" in capsys.readouterr().err
    assert cli_main(["report", str(folder), "--query-id", "no-such-id", "-o",
                     str(tmp_path / "x.html")]) == 2
    assert "not an id of this LangChain FAISS store" in capsys.readouterr().err
    assert cli_main(["report", str(tmp_path), "-o", str(tmp_path / "y.html")]) == 2
    assert "index.faiss + index.pkl" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "y.html").exists()
    # opting in on the command line
    assert cli_main(["report", str(folder), "--allow-dangerous-deserialization",
                     "--query-id", "42", "-o", str(tmp_path / "z.html")]) == 0
    assert TEXTS[42] in (tmp_path / "z.html").read_text()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
