"""Crash and concurrency suite: kill -9 during writes, two writers at once, answers during writes.

Short by default (CI); `RF_SOAK=1` (make soak) runs the long version: ≥50 kills, 100 writer rounds.
Real components throughout: ingest.py in subprocesses, Chroma, the bundled embedding model, the pipeline.

"Consistent" (asserted after every recovery) means: the ledger's chunk ids, the Chroma vector ids of the
collection the ledger names, and the lexical snapshot's ids are the same set (held-back chunks aside, which
the lexical index leaves out by design); every document has exactly its recorded number of chunks; its
content hash is one of the versions of its file that were written (fully old or fully new); and the index
still holds every document it held before the killed write, except the one a killed remove was removing (a
killed ingest or rebuild loses nothing: the previous index stays).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from assistant.ingestion import maintenance
from assistant.ingestion.embedding import file_sha256
from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings

SOAK = os.environ.get("RF_SOAK") == "1"
KILLS = 51 if SOAK else 6
WRITER_ROUNDS = 100 if SOAK else 8
SMALL_CORPUS = ["samverkan-mellan-kommuner.md", "sju-fragor-for-nyttorealisering.md", "valfardsteknik-i-hemtjansten.md",
                "medarbetare-mbl-och-arbetsmiljo.md"]
WORDS = ("nyttoägare", "förvaltning", "styrgrupp", "verksamhetsnytta", "uppföljning", "ledningsgrupp", "budget",
         "arbetssätt", "kompetens", "invånare", "beslut", "risk")


def _env(data_dir: Path, corpus: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_CORPUS_DIR": str(corpus),
            "PYTHONPATH": str(PROJECT_ROOT)}


def _small_corpus(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in SMALL_CORPUS:
        shutil.copy(PROJECT_ROOT / "corpus" / name, target / name)
    return target


def _mutate(path: Path, rng: random.Random) -> None:
    """A new version of the file: one more paragraph, so its changed chunks must be embedded again."""
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n\n## Tillägg {rng.randrange(10**9)}\n\nLedningsgruppen beslutar om {words}.\n")


def _lock_holder(data_dir: Path) -> int | None:
    try:
        return int((data_dir / ".write.lock").read_text().strip() or 0)
    except (OSError, ValueError):
        return None


def _consistency(index: Index, versions: dict[str, set[str]], expected: set[str]) -> list[str]:
    """What is wrong with the index (see the module docstring); empty when it is consistent."""
    problems = []
    _ = index.lexical  # the snapshot a reader would use, so the lexical index is compared too
    found = maintenance.survey(index)
    if not found.consistent:
        problems.append(f"orphans={len(found.orphan_vectors)} missing={len(found.missing_vectors)} "
                        f"incomplete={found.incomplete_documents} lexical_stale={found.lexical_stale}")
    records = index.documents()
    lost = expected - {record.document_id for record in records}
    if lost:
        problems.append(f"documents lost: {sorted(lost)}")
    for record in records:
        if record.document_id in versions and record.content_hash not in versions[record.document_id]:
            problems.append(f"{record.document_id} holds a version never written")
    return problems


def test_kill_9_during_ingest_remove_and_rebuild_leaves_a_consistent_index(tmp_path: Path, embedder) -> None:
    rng = random.Random(13)
    corpus = _small_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    settings = Settings(data_dir=data, corpus_dir=corpus)
    env = _env(data, corpus)
    versions: dict[str, set[str]] = {p.stem: {file_sha256(p)} for p in corpus.iterdir()}
    first = subprocess.Popen([sys.executable, "ingest.py", "--quiet", "--rebuild", str(corpus)], cwd=PROJECT_ROOT,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while _lock_holder(data) != first.pid and first.poll() is None:
        time.sleep(0.01)
    started = time.monotonic()
    assert first.wait(timeout=600) == 0, first.stderr.read()
    write_seconds = max(time.monotonic() - started, 0.5)  # how long a full write holds the lock
    removed: list[Path] = []
    held = set(versions)  # the documents the index holds after the last round
    kills = landed = inconsistent_before = inconsistent_after = 0
    kinds: dict[str, int] = {}
    for round_ in range(KILLS):
        kind = ("ingest", "rebuild", "remove")[round_ % 3]
        if kind == "ingest":
            for path in rng.sample(sorted(corpus.iterdir()), 2):
                _mutate(path, rng)
                versions[path.stem].add(file_sha256(path))
            for path in removed:  # bring removed documents back in the same run
                shutil.move(str(path), corpus / path.name)
            removed = []
            args = ["--quiet", str(corpus)]
        elif kind == "rebuild":
            args = ["--quiet", "--rebuild", str(corpus)]
        else:
            victim = rng.choice(sorted(corpus.iterdir()))
            args = ["--quiet", "--remove", victim.stem]
            shutil.move(str(victim), tmp_path / victim.name)
            removed.append(tmp_path / victim.name)
        proc = subprocess.Popen([sys.executable, "ingest.py", *args], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while _lock_holder(data) != proc.pid and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, write_seconds if kind != "remove" else 0.3))
        if proc.poll() is None:
            landed += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
        kinds[kind] = kinds.get(kind, 0) + 1

        index = Index(settings, embedder=embedder)
        try:
            if not maintenance.survey(index).consistent:
                inconsistent_before += 1
            report = index.check()
            problems = _consistency(index, versions, held - ({victim.stem} if kind == "remove" else set()))
            if problems:
                inconsistent_after += 1
            assert report.consistent and not problems, (kind, problems, report.counts())
            held = {record.document_id for record in index.documents()}
            # Removes can empty it while killed ingests bring nothing back; while it holds anything, it answers.
            assert not held or index.search("nyttoägare uppföljning", k=3), "the index does not answer after recovery"
        finally:
            index.close()
    print(f"\nCRASH SUITE kills: {kills} ({kinds}), {landed} while the writer ran; inconsistent before repair: "
          f"{inconsistent_before}; inconsistent after the check: {inconsistent_after}")
    assert inconsistent_after == 0 and kills == KILLS


WRITER = textwrap.dedent("""
    import random, shutil, sys
    from pathlib import Path
    from assistant.logging_setup import configure
    configure()
    from assistant.ingestion.index import Index
    from assistant.settings import Settings

    name, rounds, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    rng = random.Random(name)
    index = Index(Settings())
    sources = sorted(Path(sys.argv[4]).iterdir())
    for r in range(rounds):
        source = rng.choice(sources)
        target = folder / f"{name}-{r % 3}.md"
        shutil.copy(source, target)
        with target.open("a", encoding="utf-8") as f:
            f.write(f"\\n\\n## Runda {r}\\n\\nSkrivare {name} runda {r}.\\n")
        report = index.ingest([target])
        assert not report.failed, report.failed
        if r % 2:
            index.remove(f"{name}-{rng.randrange(3)}")
        if r % 5 == 4:
            index.remove("delad")
        else:
            index.ingest([Path(sys.argv[4]) / "delad.md"], replace=True)
    print("ok", flush=True)
""")


def test_two_writers_at_once_leave_no_orphans(tmp_path: Path, embedder) -> None:
    corpus = _small_corpus(tmp_path / "corpus")
    shutil.copy(corpus / SMALL_CORPUS[0], corpus / "delad.md")
    data = tmp_path / "data"
    env = _env(data, corpus)
    folders = {name: tmp_path / name for name in ("a", "b")}
    for folder in folders.values():
        folder.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, name, str(WRITER_ROUNDS), str(folder), str(corpus)],
                              cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, folder in folders.items()]
    outputs = [p.communicate(timeout=1800) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outputs]
    index = Index(Settings(data_dir=data, corpus_dir=corpus), embedder=embedder)
    try:
        found = maintenance.survey(index)  # before any repair: the writers alone must leave it whole
        orphans = len(found.orphan_vectors)
        print(f"\nCRASH SUITE writers: 2 processes x {WRITER_ROUNDS} rounds; orphan vectors {orphans}, "
              f"chunks without vectors {len(found.missing_vectors)}, ledger chunks {found.ledger_chunks}, "
              f"vectors {found.vectors}")
        assert found.consistent and orphans == 0, found
        ids = {d.document_id for d in index.documents()}
        assert ids and all(i.startswith(("a-", "b-", "delad")) for i in ids)
    finally:
        index.close()


def test_answers_while_documents_are_added_and_removed(tmp_path: Path, embedder) -> None:
    from assistant.pipeline import Pipeline

    corpus = _small_corpus(tmp_path / "corpus")
    extra = tmp_path / "extra"
    extra.mkdir()
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    index = Index(settings, embedder=embedder)
    assert not index.ingest([corpus]).failed
    pipeline = Pipeline.from_settings(settings, index=index)
    pipeline.warm_up()
    def flat(doc_id: str) -> str:
        return " ".join(" ".join(c.text.split()) for c in index.chunks_of(doc_id))

    texts: dict[str, str] = {p.stem: flat(p.stem) for p in corpus.iterdir()}
    removed_at: dict[str, float] = {}
    stop = threading.Event()
    errors: list[str] = []
    cycles = 0

    def writer() -> None:
        nonlocal cycles
        rng = random.Random(7)
        try:
            while not stop.is_set():
                source = rng.choice(SMALL_CORPUS)
                doc_id = f"kopia-{cycles}"
                target = extra / f"{doc_id}.md"
                shutil.copy(corpus / source, target)
                texts[doc_id] = texts[Path(source).stem]  # the same text, so the same passages
                index.ingest([target])
                removed_at.pop(doc_id, None)
                time.sleep(rng.uniform(0, 0.3))
                index.remove(doc_id)
                removed_at[doc_id] = time.monotonic()
                target.unlink()
                cycles += 1
        except Exception as exc:  # noqa: BLE001 - reported as a failure below
            errors.append(f"writer: {exc!r}")

    messages = ["Vem ska vara nyttoägare för välfärdsteknik i hemtjänsten?",
                "Vi ska införa trygghetskameror i hemtjänsten tillsammans med tre kommuner",
                "Hur involverar vi medarbetarna och facket enligt MBL?",
                "Vad bör ledningen fråga sig om nyttorealiseringen?"]
    answers_per_thread = 6 if SOAK else 2
    answered = 0
    bad: list[str] = []
    count_lock = threading.Lock()

    min_cycles = 10 if SOAK else 3  # readers go on until the writer has added and removed this many documents

    def reader(n: int) -> None:
        nonlocal answered
        i = -1
        while True:
            i += 1
            if i >= answers_per_thread and (cycles >= min_cycles or not write_thread.is_alive()):
                break
            message = messages[(n + i) % len(messages)]
            begun = time.monotonic()
            try:
                answer = pipeline.ask(message)
            except Exception as exc:  # noqa: BLE001 - counted as an error
                errors.append(f"reader {n}: {exc!r}")
                continue
            for c in answer.citations:
                gone = removed_at.get(c.document_id)
                if gone is not None and gone < begun:
                    bad.append(f"{c.document_id} cited after its removal")
                # a quote is taken from a passage of a whole, written version of the document
                text = texts.get(c.document_id, "")
                parts = [p.strip(" .…") for p in " ".join(c.quote.split()).split("…")]
                if not all(part in text for part in parts if part):
                    bad.append(f"{c.document_id}: quote not in the document: {c.quote[:60]}")
            with count_lock:
                answered += 1

    write_thread = threading.Thread(target=writer)
    write_thread.start()
    readers = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    write_thread.join()
    try:
        print(f"\nCRASH SUITE readers: 8 threads, {answered} answers, {len(errors)} errors, {len(bad)} bad citations, "
              f"{cycles} add/remove cycles meanwhile")
        assert not errors and not bad, (errors, bad)
        assert answered >= 8 * answers_per_thread and cycles >= min_cycles
        assert maintenance.survey(index).consistent
    finally:
        index.close()


@pytest.fixture(autouse=True)
def _model_offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
