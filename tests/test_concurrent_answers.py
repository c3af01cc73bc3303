"""Eight chefs ask while a ninth thread adds and removes documents, on one shared Pipeline (as in one Streamlit
server), on both ledgers: SQLite and PostgreSQL.

Real components: the Index (Chroma, the bundled model), the Pipeline, real Markdown files from the bundled
corpus. Each writer round adds a copy of a guidance document under a new id and removes it again, so every
document has one life: from the start of its ingest to the end of its removal. An answer is wrong if it fails,
if it cites a document outside the life that overlaps the answer (already removed, or not yet added), or if it
quotes a passage that is not one of that document's passages (half written).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from assistant.ingestion.index import Index
from assistant.pipeline import Pipeline
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow

CHEFS = 8
ROUNDS = 6
SOURCES = ["samverkan-mellan-kommuner.md", "medarbetare-mbl-och-arbetsmiljo.md", "valfardsteknik-i-hemtjansten.md"]
# Written for this test: questions the writer's documents answer (the base document answers few of them).
QUESTIONS = [
    "Hur kan flera kommuner dela på ett system och vem äger då nyttan?",
    "När ska de fackliga organisationerna informeras om ett nytt arbetssätt?",
    "Hur hanteras samtycke när en brukare får sensorer på natten?",
    "Vad gäller för kontrollundantaget när kommuner äger ett bolag tillsammans?",
    "Hur bedömer vi arbetsmiljörisker innan förändringen?",
    "Vi vill införa digital nattillsyn i hemtjänsten.",
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_chefs_ask_while_a_ninth_thread_adds_and_removes_documents(backend: str, tmp_path: Path, embedder,  # noqa: ANN001
                                                                          request: pytest.FixtureRequest) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / "sju-fragor-for-nyttorealisering.md", corpus)
    shared = ({"database_url": request.getfixturevalue("database_url"), "database_poll_seconds": 0.2}
              if backend == "postgresql" else {})
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, **shared)
    index = Index(settings, embedder=embedder)
    assert not index.ingest([corpus]).failed
    pipeline = Pipeline.from_settings(settings, index=index)
    pipeline.ask(QUESTIONS[0])  # loads the coaching models once, before the clock matters

    rounds = tmp_path / "rounds"
    rounds.mkdir()
    lives: dict[str, list[float]] = {}  # document id -> [ingest started, removal finished]
    passages: dict[str, set[str]] = {}  # document id -> the text of each of its passages
    errors: list[str] = []
    bad: list[str] = []
    answered = cited_writer_docs = 0
    lock = threading.Lock()
    done = threading.Event()

    def writer() -> None:
        try:
            for n in range(ROUNDS):
                path = rounds / f"runda-{n}-{SOURCES[n % len(SOURCES)]}"
                shutil.copy(PROJECT_ROOT / "corpus" / SOURCES[n % len(SOURCES)], path)
                with lock:
                    lives[path.stem] = [time.monotonic(), float("inf")]
                report = index.ingest([path])
                if report.failed:
                    errors.append(f"writer: {report.failed}")
                with lock:
                    passages[path.stem] = {c.text for c in index.chunks_of(path.stem)}
                time.sleep(1.0)  # long enough for the chefs to find it
                index.remove(path.stem)
                with lock:
                    lives[path.stem][1] = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"writer: {exc!r}")
        finally:
            done.set()

    def chef(k: int) -> None:
        nonlocal answered, cited_writer_docs
        i = k
        while not done.is_set():
            started = time.monotonic()
            try:
                answer = pipeline.ask(QUESTIONS[i % len(QUESTIONS)])
            except Exception as exc:  # noqa: BLE001 - any error is a failure
                errors.append(f"chef {k}: {exc!r}")
                return
            finished = time.monotonic()
            i += 1
            with lock:
                answered += 1
                for c in answer.citations:
                    if c.document_id == "sju-fragor-for-nyttorealisering":
                        continue
                    life = lives.get(c.document_id)
                    if life is None or not (life[0] <= finished and started <= life[1]):
                        bad.append(f"{c.document_id} cited outside its life")
                        continue
                    cited_writer_docs += 1
                    known = passages.get(c.document_id)
                    if known is not None and not any(c.quote in text for text in known):
                        bad.append(f"{c.document_id}: a quote from no passage of the document")

    threads = [threading.Thread(target=chef, args=(k,)) for k in range(CHEFS)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    left = {r.document_id for r in index.documents()}
    index.close()

    assert not errors, errors[:5]
    assert not bad, f"{len(bad)} wrong citations, e.g. {bad[:5]}"
    assert answered >= CHEFS * ROUNDS  # the chefs kept asking the whole time
    assert cited_writer_docs > 0  # the writer's documents were found while they existed (the check is not empty)
    assert left == {"sju-fragor-for-nyttorealisering"}
