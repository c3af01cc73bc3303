"""Our retrieval against what a user would pick instead: `python -m bench.retrieval` (`make bench-retrieval`).

The naive alternative is LangChain's Chroma vector store searched with
`similarity_search`, with the same bundled embedding model. Printed, never asserted:

1. Quality on SweFAQ dev (../shared/data/swefaq/dev-beir): nDCG@10 of both. Ours
   ingests the answers with `Index.ingest`; the naive store gets them with
   `Chroma.from_texts`, one answer a text.
2. Speed and memory on the bundled corpus and on 10,000 and 100,000 synthetic
   passages (see bench/synthetic.py; both systems hold the same ids, texts and
   vectors): search latency p50/p95 over the same messages, and each process's
   peak resident memory. Each system runs in a process of its own, so the
   figures do not mix. For ours the whole answer (`Pipeline.ask`) is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.settings import PROJECT_ROOT

SWEFAQ = PROJECT_ROOT.parent / "shared" / "data" / "swefaq" / "dev-beir"
# Messages of our own for timing (not from any gold set): initiatives and questions of the kind chefs write.
MESSAGES = [
    "Socialförvaltningen planerar att byta journalsystem under nästa år",
    "Hur vet ledningsgruppen att ett projekt faktiskt har gett effekt?",
    "Vi överväger att låta en leverantör sköta drift och förvaltning av vår e-tjänstplattform",
    "Vem ska ansvara för informationen när vi flyttar ärendehanteringen till molnet?",
    "Äldreomsorgen vill testa digital tillsyn nattetid",
    "Vad innebär AI-förordningen för en kommun som använder textgenerering?",
    "Hur mycket av budgeten bör gå till utbildning när vi inför nya verktyg?",
    "Vi ska ta fram en ny digitaliseringsstrategi för regionen",
    "vad ar forvaltningsskuld",
    "Skolorna vill ha ett gemensamt system för frånvaro och schema",
    "Hur delar vi upp en stor upphandling i mindre steg?",
    "Vilka roller behövs i förvaltningen efter ett systembyte?",
]
ROUNDS = 3


class BundledEmbeddings:
    """The bundled sentence-transformers model as a LangChain `Embeddings`, as a LangChain user would wrap it."""

    def __init__(self) -> None:
        from assistant.ingestion.embedding import Embedder

        self._embedder = Embedder()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        self._embedder.forget_queries()  # a LangChain user has no query cache: embed every message afresh
        return self._embedder.embed_query(text)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from the
    parent, so a worker started by a large parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- quality -------------------------------------------------------------------
def quality() -> dict[str, float]:
    from evals.beir import evaluate, load_beir
    from evals.ranking import score_run

    ours = evaluate(SWEFAQ, progress=False)["hybrid"]["ndcg_at_10"]
    corpus, queries, qrels = load_beir(SWEFAQ)
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    with tempfile.TemporaryDirectory(prefix="naiv-") as tmp:
        store = Chroma.from_texts([d["text"] for d in corpus], BundledEmbeddings(), ids=[str(d["_id"]) for d in corpus],
                                  persist_directory=tmp, client_settings=ChromaSettings(anonymized_telemetry=False),
                                  collection_metadata={"hnsw:space": "cosine"})
        run = {q: [doc.id for doc in store.similarity_search(text, k=10)] for q, text in queries.items() if q in qrels}
    naive = score_run(run, qrels, 10)["ndcg_at_10"]
    return {"ours": ours, "naive": naive}


# -- one system in its own process ------------------------------------------------
def worker(system: str, data: Path) -> dict[str, float]:
    started = time.perf_counter()
    timings: list[float] = []
    answers: list[float] = []
    if system == "ours":
        from assistant.ingestion.index import Index
        from assistant.pipeline import Pipeline
        from assistant.settings import Settings

        settings = Settings(data_dir=data)
        index = Index(settings)
        pipeline = Pipeline.from_settings(settings, index=index)
        pipeline.warm_up()
        index.search(MESSAGES[0], k=10)
        loaded = time.perf_counter() - started
        for _ in range(ROUNDS):
            for message in MESSAGES:
                index.embedder.forget_queries()  # no cached vectors between rounds: each search embeds its message
                t = time.perf_counter()
                index.search(message, k=10)
                timings.append(time.perf_counter() - t)
                index.embedder.forget_queries()
                t = time.perf_counter()
                pipeline.ask(message)
                answers.append(time.perf_counter() - t)
    else:
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        store = Chroma(collection_name="naiv", embedding_function=BundledEmbeddings(), persist_directory=str(data),
                       client_settings=ChromaSettings(anonymized_telemetry=False))
        store.similarity_search(MESSAGES[0], k=10)
        loaded = time.perf_counter() - started
        for _ in range(ROUNDS):
            for message in MESSAGES:
                t = time.perf_counter()
                store.similarity_search(message, k=10)
                timings.append(time.perf_counter() - t)
    out = {"load_s": loaded, "p50_ms": percentile(timings, 50) * 1000, "p95_ms": percentile(timings, 95) * 1000,
           "peak_mb": peak_mb()}
    if answers:
        out |= {"answer_p50_ms": percentile(answers, 50) * 1000, "answer_p95_ms": percentile(answers, 95) * 1000}
    return out


def run_worker(system: str, data: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-m", "bench.retrieval", "--worker", system, "--data", str(data)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"{system} på {data} misslyckades:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="Antal syntetiska avsnitt utöver korpusen, kommaseparerat.")
    parser.add_argument("--workdir", type=Path, help="Behåll de byggda indexen här (annars en temporär mapp).")
    parser.add_argument("--worker", choices=("ours", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.data)))
        return 0
    from bench import synthetic
    from assistant.logging_setup import configure

    configure()
    print(__doc__.split("\n\n")[1].strip(), "\n")
    if SWEFAQ.exists():
        q = quality()
        print(f"SweFAQ dev nDCG@10: vår sökning {q['ours']:.3f}, naiv LangChain + Chroma {q['naive']:.3f} "
              f"(kvot {q['ours'] / q['naive']:.2f})\n")
    sizes = [0] + [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        root = args.workdir or Path(tmp)
        base = synthetic.bundled(root / "korpus")
        for size in sizes:
            if size:
                settings, seconds = synthetic.with_synthetic(base, root / f"syntetisk-{size}", size)
                print(f"{size} syntetiska avsnitt skrivna på {seconds:.0f} s")
            else:
                settings = base
            naive_dir = root / f"naiv-{size}"
            if not naive_dir.exists():
                synthetic.export(settings, naive_dir)
            ours, naive = run_worker("ours", settings.data_dir), run_worker("naive", naive_dir)
            rows.append((size, ours, naive))
    print("\n| Avsnitt | Vår sökning p50 / p95 | Naiv p50 / p95 | Kvot p50 | Vårt hela svar p50 / p95 | Minne (topp) vår / naiv | Laddning vår / naiv |")
    print("|---|---|---|---|---|---|---|")
    for size, ours, naive in rows:
        label = "medföljande korpus" if not size else f"korpus + {size:,}".replace(",", " ")
        print(f"| {label} | {ours['p50_ms']:.1f} / {ours['p95_ms']:.1f} ms | {naive['p50_ms']:.1f} / {naive['p95_ms']:.1f} ms "
              f"| {ours['p50_ms'] / naive['p50_ms']:.2f} | {ours['answer_p50_ms']:.0f} / {ours['answer_p95_ms']:.0f} ms "
              f"| {ours['peak_mb']:.0f} / {naive['peak_mb']:.0f} MB | {ours['load_s']:.1f} / {naive['load_s']:.1f} s |")
    print(f"\n{len(MESSAGES)} meddelanden × {ROUNDS} varv per system och storlek; systemlast {os.getloadavg()[0]:.1f} på {os.cpu_count()} kärnor.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
