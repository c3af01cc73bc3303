"""One writer at a time across processes, the consistency check, rebuild aside, ids that cannot collide, and the
command line's error boundary. Real Chroma, the real model, ingest.py in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.ingestion import maintenance
from assistant.ingestion.embedding import Embedder
from assistant.ingestion.index import Index
from assistant.ingestion.locking import WriteLock, WriteLockTimeout
from assistant.settings import PROJECT_ROOT, Settings
from assistant.types import Chunk
from tests import builders

STYRNING = "# Styrning\n\n## Nyttoägare\n\nLedningsgruppen utser en nyttoägare för varje initiativ och följer upp nyttan.\n"
UPPHANDLING = "# Upphandling\n\n## Behov\n\nBeställaren beskriver behovet innan upphandlingen börjar, med verksamheten.\n"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    builders.write(folder / "styrning.md", STYRNING)
    builders.write(folder / "upphandling.md", UPPHANDLING)
    return folder


@pytest.fixture
def open_index(make_settings: Callable[..., Settings], embedder: Embedder) -> Iterator[Callable[..., Index]]:
    opened: list[Index] = []

    def factory(**overrides: object) -> Index:
        index = Index(make_settings(**overrides), embedder=embedder)
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir), **env}
    return subprocess.Popen([sys.executable, "ingest.py", *args], cwd=PROJECT_ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# -- the lock ---------------------------------------------------------------------------------------------------
def test_another_process_waits_for_the_lock_says_so_in_swedish_and_then_writes(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    with index.write_lock.hold():
        proc = _cli(index.settings, "--remove", "styrning")
        waiting = proc.stderr.readline()  # blocks until the other process reports that it waits
        assert "Ett annat program skriver till indexet – väntar" in waiting
        assert [d.document_id for d in index.documents()] == ["styrning", "upphandling"]  # it did wait
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert [d.document_id for d in index.documents()] == ["upphandling"]


def test_a_writer_gives_up_after_the_timeout_with_a_swedish_error(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    with index.write_lock.hold():
        proc = _cli(index.settings, "--remove", "styrning", ASSISTANT_WRITE_LOCK_TIMEOUT_SECONDS="0.5")
        out, err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert "har skrivit till indexet i mer än 0.5 s" in err and "ASSISTANT_WRITE_LOCK_TIMEOUT_SECONDS" in err
    assert "Traceback" not in err + out
    assert [d.document_id for d in index.documents()] == ["styrning", "upphandling"]


def test_the_lock_is_reentrant_in_a_thread_and_excludes_other_threads(tmp_path: Path) -> None:
    lock = WriteLock(tmp_path / ".write.lock", timeout=0.0)
    other_failed = []

    def other() -> None:
        try:
            with lock.hold():
                pass
        except WriteLockTimeout as exc:
            other_failed.append(str(exc))

    with lock.hold() as outer, lock.hold() as inner:
        assert outer and not inner and lock.held
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert other_failed and "lås" in other_failed[0]
    with lock.hold():  # released completely after the nested holds
        assert lock.held


# -- ids --------------------------------------------------------------------------------------------------------
def test_same_id_from_another_folder_is_refused_with_both_paths_unless_replace(docs: Path, tmp_path: Path,
                                                                               open_index) -> None:
    index = open_index()
    index.ingest([docs])
    other = tmp_path / "annan" / "Styrning.md"
    builders.write(other, "# Annan styrning\n\n## Annat\n\nEn helt annan text om styrning och budget i regionen.\n")
    report = index.ingest([other])
    assert report.added == report.updated == []
    reason = report.failed[0]["reason"]
    assert str(docs / "styrning.md") in reason and str(other) in reason and "--replace" in reason
    assert index.ledger.document("styrning").source == str(docs / "styrning.md")

    builders.write(docs / "styrning.md", STYRNING + "\nEn mening till om uppföljning.\n")
    assert index.ingest([docs / "styrning.md"]).updated == ["styrning"]  # the same file: a normal update

    assert index.ingest([other], replace=True).updated == ["styrning"]
    assert index.ledger.document("styrning").source == str(other)
    assert all(h.chunk.document_id != "styrning" or "annan text" in h.chunk.text
               for h in index.search("styrning", k=5))


def test_the_cli_refuses_a_colliding_id_and_replaces_with_the_flag(docs: Path, tmp_path: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    other = tmp_path / "annan" / "upphandling.txt"
    builders.write(other, "Upphandling i en annan kommun: beställaren och leverantören möts tidigt.\n")
    refused = _cli(index.settings, str(other))
    out, err = refused.communicate(timeout=300)
    assert refused.returncode == 1 and str(docs / "upphandling.md") in err and str(other) in err
    replaced = _cli(index.settings, "--replace", str(other))
    out, err = replaced.communicate(timeout=300)
    assert replaced.returncode == 0, err
    assert index.ledger.document("upphandling").source == str(other)


# -- the check --------------------------------------------------------------------------------------------------
def test_check_repairs_orphans_missing_vectors_and_rebuild_leftovers(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    assert index.check().before.clean
    lost = index.ledger.chunk_ids("styrning")
    index.store.delete(lost)  # as if vectors were lost
    orphan = Chunk(id="borta:0", document_id="borta", ordinal=0, text="x", title="Borta", start=0, end=1,
                   content_hash="0")
    index.store.add([orphan], index.embedder.embed_passages(["x"]), ["x"])  # as if a writer died before its commit
    index.chroma.get_or_create_collection(f"{index.settings.collection}{maintenance.REBUILD_MARK}1")
    (index.settings.data_dir / f"{maintenance.REBUILD_MARK}1-1.sqlite3").write_bytes(b"")

    report = index.check()
    assert report.before.orphan_vectors == ["borta:0"] and report.before.missing_vectors == sorted(lost)
    assert len(report.before.stray_collections) == 1 and len(report.before.stray_files) == 1
    assert report.re_embedded == len(lost) and report.consistent and report.after.clean
    assert index.store.ids() == set(index.ledger.chunk_id_set())
    assert any(h.chunk.document_id == "styrning" for h in index.search("nyttoägare", k=3, mode="dense"))
    text = "\n".join(report.lines_sv())
    assert "1 vektorer utan avsnitt" in text and f"{len(lost)} avsnitt i liggaren saknade vektor" in text


def test_ingest_check_on_the_command_line_reports_in_swedish_and_exits_zero(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    orphan = Chunk(id="borta:0", document_id="borta", ordinal=0, text="x", title="Borta", start=0, end=1,
                   content_hash="0")
    index.store.add([orphan], index.embedder.embed_passages(["x"]), ["x"])
    proc = _cli(index.settings, "--check", "--json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "föräldralösa" in out and "Indexet stämmer nu." in out
    assert '"orphan_vectors": 1' in out.splitlines()[-1]
    assert "borta:0" not in index.store.ids()


def test_a_reader_sees_another_writers_changes(docs: Path, open_index, embedder: Embedder) -> None:
    reader = open_index()
    reader.ingest([docs])
    assert {h.chunk.document_id for h in reader.search("beställaren behovet", k=5)} >= {"upphandling"}
    writer = Index(reader.settings, embedder=embedder)  # another connection, as another process has
    try:
        writer.remove("upphandling")
    finally:
        writer.close()
    assert maintenance.survey(reader).consistent  # the lexical snapshot followed the ledger
    assert all(h.chunk.document_id != "upphandling" for h in reader.search("beställaren behovet", k=5))
    assert [d.document_id for d in reader.documents()] == ["styrning"]



def test_dense_search_finds_what_another_process_added(docs: Path, tmp_path: Path, open_index) -> None:
    """Embedded Chroma keeps its vector index in memory; without reopening, the app would not find by meaning
    a document that `ingest.py` added in another process until it was restarted."""
    reader = open_index()
    reader.ingest([docs])
    assert reader.search("beställaren behovet", k=5, mode="dense")  # the in-memory vector index is loaded
    extra = builders.write(tmp_path / "more" / "arkiv.md",
                           "# Arkiv\n\n## Gallring\n\nArkivredovisningen beskriver hur handlingar bevaras och gallras.\n")
    proc = _cli(reader.settings, str(extra))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    hits = reader.search("arkivredovisningen bevaras gallras", k=3, mode="dense")
    assert hits and hits[0].chunk.document_id == "arkiv"


def test_a_new_index_in_the_same_process_finds_what_another_process_added(docs: Path, tmp_path: Path, open_index) -> None:
    """Chroma shares one system per path within a process: an Index opened after another process wrote must not
    inherit the earlier Index's stale in-memory vector index (a check after a killed ingest then deleted only
    some of the orphans it found)."""
    first = open_index()
    first.ingest([docs])
    assert first.search("beställaren behovet", k=5, mode="dense")  # this process's vector index is loaded
    extra = builders.write(tmp_path / "more" / "arkiv.md",
                           "# Arkiv\n\n## Gallring\n\nArkivredovisningen beskriver hur handlingar bevaras och gallras.\n")
    proc = _cli(first.settings, str(extra))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    second = open_index()
    hits = second.search("arkivredovisningen bevaras gallras", k=3, mode="dense")
    assert hits and hits[0].chunk.document_id == "arkiv"


# -- rebuild aside ----------------------------------------------------------------------------------------------
def test_an_interrupted_rebuild_leaves_the_previous_index(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    before = ([d.document_id for d in index.documents()], index.store.ids(), index.collection_name())

    def interrupt(path: Path, outcome: str, reason: str | None) -> None:
        raise KeyboardInterrupt  # as if the person pressed Ctrl-C after the first file

    with pytest.raises(KeyboardInterrupt):
        index.rebuild([docs], on_file=interrupt)
    assert ([d.document_id for d in index.documents()], index.store.ids(), index.collection_name()) == before
    assert maintenance.survey(index).clean  # the aside collection and ledger were cleaned up
    assert index.search("nyttoägare", k=3)


def test_a_rebuild_swaps_in_a_new_collection_and_readers_follow(docs: Path, open_index, embedder: Embedder) -> None:
    index = open_index()
    index.ingest([docs / "styrning.md"])
    reader = Index(index.settings, embedder=embedder)
    try:
        assert reader.search("nyttoägare", k=3, mode="dense")
        report = index.rebuild([docs])
        assert sorted(report.added) == ["styrning", "upphandling"]
        assert index.collection_name() != index.settings.collection
        names = [c.name for c in index.chroma.list_collections()]
        assert names == [index.collection_name()]  # the previous collection is gone
        assert index.ledger.get_meta("embedding_model") == index.settings.embedding_model
        hits = reader.search("beställaren behovet", k=3, mode="dense")  # the reader opened the new collection
        assert hits and hits[0].chunk.document_id == "upphandling"
        assert maintenance.survey(reader).clean
    finally:
        reader.close()


# -- per-answer cost --------------------------------------------------------------------------------------------
def test_document_lookups_do_not_decode_every_documents_metadata(docs: Path, open_index, embedder) -> None:
    index = open_index()
    index.ingest([docs])
    record = index.ledger.document("upphandling")
    index.update_metadata("upphandling", record.title, {"ballast": ["x" * 100] * 10_000})  # 1 MB
    first = index.documents()
    assert index.documents() is not first and index.documents()[1].metadata is first[1].metadata  # cached
    assert index.ledger.document("styrning").metadata == {} or "ballast" not in index.ledger.document("styrning").metadata
    assert index.ledger.document("saknas") is None and not index.is_empty()
    other = Index(index.settings, embedder=embedder)
    try:
        other.update_metadata("upphandling", "Ny titel", {})
    finally:
        other.close()
    assert index.ledger.document("upphandling").title == "Ny titel"
    assert [d.title for d in index.documents() if d.document_id == "upphandling"] == ["Ny titel"]  # not stale


# -- the error boundary -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["ingest.py"], ["-m", "assistant", "ask", "Vem äger nyttan?"]])
def test_the_cli_turns_any_error_into_swedish_and_a_non_zero_exit(tmp_path: Path, command: list[str]) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("en fil, inte en mapp")
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(not_a_folder)}
    result = subprocess.run([sys.executable, *command], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "File exists" not in result.stderr and "Not a directory" not in result.stderr
    assert "Fel:" in result.stderr and str(not_a_folder) in result.stderr
