"""Milvus Lite, embedded in the test: feder reads each collection's segment faiss file and its
replay equals Milvus's own answers; sweeps search the engine; bad input fails clearly."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder import sources

from conftest import clustered  # isort: skip

pymilvus = pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

N, DIM = 3000, 16


def photos(folder: Path, count: int = 4) -> list[str]:
    """A few small real PNG files (media fields point at them)."""
    from PIL import Image

    out = []
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"photo_{i}.png"
        Image.new("RGB", (24, 24), (60 * i, 120, 255 - 60 * i)).save(path)
        out.append(str(path))
    return out


def build_milvus(folder: Path, n: int = N, dim: int = DIM) -> tuple[Path, np.ndarray]:
    """A Milvus Lite database with collection ``images`` (IVF_FLAT nlist 32, L2, string
    primary keys ``img_0000``…, a ``path`` field naming a real image) and ``hnsw`` (HNSW M 8,
    COSINE, int keys)."""
    data = clustered(n, dim, seed=11)
    images = photos(folder)
    path = folder / "milvus.db"
    client = pymilvus.MilvusClient(str(path))
    dt = pymilvus.DataType
    schema = client.create_schema(auto_id=False)
    schema.add_field("pk", dt.VARCHAR, is_primary=True, max_length=32)
    schema.add_field("embedding", dt.FLOAT_VECTOR, dim=dim)
    schema.add_field("path", dt.VARCHAR, max_length=512)
    client.create_collection("images", schema=schema)
    client.insert("images", [{"pk": f"img_{i:04d}", "embedding": data[i].tolist(),
                              "path": images[i % len(images)]} for i in range(n)])
    client.flush("images")
    params = client.prepare_index_params()
    params.add_index(field_name="embedding", index_type="IVF_FLAT", metric_type="L2",
                     params={"params": {"nlist": 32}})  # nested: milvus-lite drops flat ones
    client.create_index("images", params)
    client.load_collection("images")

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", dt.INT64, is_primary=True)
    schema.add_field("vec", dt.FLOAT_VECTOR, dim=dim)
    client.create_collection("hnsw", schema=schema)
    client.insert("hnsw", [{"id": i * 3, "vec": data[i].tolist()} for i in range(n)])
    client.flush("hnsw")
    params = client.prepare_index_params()
    params.add_index(field_name="vec", index_type="HNSW", metric_type="COSINE",
                     params={"params": {"M": 8, "efConstruction": 40}})
    client.create_index("hnsw", params)
    client.load_collection("hnsw")
    return path, data


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    return build_milvus(tmp_path_factory.mktemp("milvus"))


@pytest.fixture(scope="module")
def src(db: tuple[Path, np.ndarray]) -> Any:
    return sources.milvus(db[0], collection="images", vector_field="embedding",
                          media_field="path")


def _queries(data: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (data[rng.choice(data.shape[0], n, replace=False)]
            + rng.standard_normal((n, data.shape[1])).astype(np.float32)).astype(np.float32)


def test_info_pull_and_ids(src: Any, db: tuple[Path, np.ndarray]) -> None:
    info = src.info()
    assert info["index_type"] == "IVF_FLAT" and info["index_params"] == {"nlist": 32}
    assert info["model"] == "ivf_flat" and src.ntotal == N and src.dim == DIM
    order = np.argsort(src.ids.astype(str))
    np.testing.assert_array_equal(src.vectors[order], db[1])  # every vector, pulled
    assert src.media[src.row_of("img_0042")].endswith("photo_2.png")
    np.testing.assert_array_equal(src.vector("img_0042"), db[1][42])


def test_replay_equals_engine_ivf(src: Any, db: tuple[Path, np.ndarray]) -> None:
    model = src.model()
    assert model is not None and model.kind == "ivf_flat" and model.nlist == 32
    qs = _queries(db[1], 40, seed=1)
    differing = 0
    for nprobe in (1, 3, 8):
        answers = src.search_many(qs, 10, nprobe=nprobe)
        for q, answer in zip(qs, answers, strict=True):
            trace = feder.trace.search(model, q, 10, nprobe=nprobe)
            replay = src.model_rows(trace.ids)
            np.testing.assert_array_equal(replay, answer.rows)
            np.testing.assert_allclose(trace.distances, answer.distances, rtol=1e-5)
        differing += sum(a.rows.tolist() != b.rows.tolist() for a, b in
                         zip(answers, src.search_many(qs, 10, nprobe=32), strict=True))
    assert differing > 0  # low nprobe really loses neighbours: the check can fail


def test_replay_equals_engine_hnsw_cosine(db: tuple[Path, np.ndarray]) -> None:
    src = sources.milvus(db[0], collection="hnsw")
    assert src.metric == "cosine" and src.param_name == "ef"
    model = src.model()
    assert model is not None and model.kind == "faiss_hnsw"
    qs = _queries(db[1], 30, seed=2)
    for ef in (10, 40):
        for q, answer in zip(qs, src.search_many(qs, 10, ef=ef), strict=True):
            trace = feder.trace.search(model, q / np.linalg.norm(q), 10, ef=ef)
            np.testing.assert_array_equal(src.model_rows(trace.ids), answer.rows)
            assert all(isinstance(i, int) for i in answer.ids)


def test_explain_and_sweep_recall_from_engine_answers(src: Any,
                                                      db: tuple[Path, np.ndarray]) -> None:
    qs = _queries(db[1], 25, seed=3)
    values = [1, 2, 4, 32]
    s = feder.sweep(src, qs, k=10, nprobe=values)
    # Recall computed here from the engine's own results and a plain numpy brute force.
    d = ((qs[:, None, :] - src.vectors[None]) ** 2).sum(-1)
    truth = np.argsort(d, axis=1, kind="stable")[:, :10]
    client = src.client
    for j, nprobe in enumerate(values):
        hits = client.search("images", data=qs.tolist(), limit=10, anns_field="embedding",
                             search_params={"params": {"nprobe": nprobe}})
        for i, row in enumerate(hits):
            got = src.rows_of([h["pk"] for h in row])
            assert s.per_query[j, i] == pytest.approx(np.isin(truth[i], got).sum() / 10)
    assert s.recall[0] < s.recall[-1] == 1.0
    assert s.answered_by == ["engine"] * 4 and np.all(s.replay_agreement == 1.0)
    e = feder.explain(src, qs[0], k=10, nprobe=1)
    assert e.replay == "equal" and e.recall == pytest.approx(s.per_query[0, 0])
    assert {m.reason for m in e.missed} <= {"list_not_probed", "tie"}
    assert all(m.id == src.ids[m.row] for m in e.missed)


def test_federpy_views_from_the_segment_file(src: Any) -> None:
    f = feder.FederPy(src)
    assert "replay of the engine's own index" in f.session.params.title
    w = f.setSearchParams({"k": 5, "nprobe": 2}).searchById("img_0042")
    view_id = f.engine.view_id("img_0042")
    assert f.engine.engine_id(view_id) == "img_0042"
    assert f.engine_check.same is True
    assert [f.engine.engine_id(int(i)) for i in w.trace.ids] == f.engine_check.answer.ids
    assert w.search["engine"]["same_as_replay"] is True
    assert f.media.media[view_id].endswith("photo_2.png")


def test_segments_and_unflushed_rows_replayed_as_milvus_merges(tmp_path: Path) -> None:
    path, data = build_milvus(tmp_path, n=600)
    client = pymilvus.MilvusClient(str(path))
    rng = np.random.default_rng(9)
    for batch in range(2):  # two more segments, each with its own index
        client.insert("images", [{"pk": f"s{batch}_{i}", "path": "x", "embedding": (
            data[i] + rng.standard_normal(DIM)).astype(np.float32).tolist()} for i in range(300)])
        client.flush("images")
    client.load_collection("images")
    qs = _queries(data, 30, seed=8)
    # not flushed: new rows, an upsert superseding a segment row, deletes
    client.insert("images", [{"pk": f"new_{i}", "path": "x", "embedding": qs[i].tolist()}
                             for i in range(5)])
    client.upsert("images", [{"pk": "img_0007", "path": "x", "embedding": qs[6].tolist()}])
    client.delete("images", ids=["img_0011", "img_0012"])
    src = sources.milvus(path, collection="images")
    assert src.model() is None and "3 segments" in src.model_reason
    assert src.ntotal == 1200 + 5 - 2
    for nprobe in (1, 4):
        for q, answer in zip(qs, src.search_many(qs, 10, nprobe=nprobe), strict=True):
            _, rows = src.replay(q, 10, {"nprobe": nprobe})
            np.testing.assert_array_equal(rows, answer.rows)
    assert feder.explain(src, qs[6], k=10, nprobe=1).replay == "equal"
    s = feder.sweep(src, qs, k=10, nprobe=[1, 32])
    assert np.all(s.replay_agreement == 1.0)


def test_bad_input(src: Any, db: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    with pytest.raises(sources.SourceError, match="no collection 'nope'"):
        sources.milvus(db[0], collection="nope")
    with pytest.raises(sources.SourceError, match="no field 'vectors'"):
        sources.milvus(db[0], collection="images", vector_field="vectors")
    with pytest.raises(sources.SourceError, match="not a float vector"):
        sources.milvus(db[0], collection="images", vector_field="path")
    with pytest.raises(sources.SourceError, match="no Milvus Lite database"):
        sources.milvus(tmp_path / "missing.db", collection="images")
    with pytest.raises(feder.QueryError, match="expected"):
        src.search(np.zeros(DIM + 1, np.float32), 5)
    with pytest.raises(feder.UnknownIdError, match="img_9999"):
        feder.FederPy(src).searchById("img_9999")
    with pytest.raises(TypeError, match="valid ones: k, nprobe"):
        src.search(np.zeros(DIM, np.float32), 5, ef=10)


def test_index_not_built(tmp_path: Path) -> None:
    client = pymilvus.MilvusClient(str(tmp_path / "bare.db"))
    client.create_collection("plain", dimension=8)
    client.release_collection("plain")
    client.drop_index("plain", "vector")
    with pytest.raises(feder.IndexNotBuiltError, match="create_index"):
        sources.milvus(tmp_path / "bare.db", collection="plain")


def test_server_that_does_not_answer_times_out() -> None:
    with socket.socket() as listener:  # accepts TCP, never speaks gRPC
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(feder.EngineTimeoutError, match="did not answer"):
            sources.milvus(f"http://127.0.0.1:{port}", collection="images", timeout=1.0)
        assert time.monotonic() - start < 10


def test_cli_diagnose_source(db: tuple[Path, np.ndarray], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    from feder.cli import main

    out = tmp_path / "diagnose.html"
    uri = f"milvus://{db[0]}?collection=images&media_field=path"
    assert main(["diagnose", "--source", uri, "--sample", "20", "--k", "5",
                 "--nprobe", "1,4,32", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "recall@5 by nprobe: 1: " in printed and "32: 1.000" in printed
    assert out.stat().st_size > 10_000 and "replay of the engine" in out.read_text()
    assert main(["diagnose", "--source", f"milvus://{db[0]}?collection=nope",
                 "-o", str(out)]) == 2
    assert "no collection 'nope'" in capsys.readouterr().err
    assert main(["diagnose", "--source", "milvus://x.db?colour=red", "-o", str(out)]) == 2
