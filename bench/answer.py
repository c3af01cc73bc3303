"""Answer latency with a warm index: `python -m bench.answer [--sizes 10000]`. Prints figures, never asserts.

The bundled corpus, ingested into a temporary directory with the real model,
and the same corpus plus synthetic chunks (see bench/synthetic.py: sentences of
the corpus recombined, vectors derived from real ones, written straight to
Chroma and the ledger). Each message kind is timed through `Pipeline.ask`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from assistant.ingestion.index import Index
from assistant.logging_setup import configure
from assistant.pipeline import Pipeline
from bench import synthetic
from bench.retrieval import MESSAGES, percentile

ROUNDS = 5
OUT_OF_SCOPE = "Vilken tid öppnar simhallen på lördag?"
ENGLISH = "Our council plans to move case handling to a cloud service"


def measure(pipeline: Pipeline, label: str) -> None:
    started = time.perf_counter()
    pipeline.warm_up()
    warm_up = time.perf_counter() - started
    from assistant.answer import Turn

    first = pipeline.ask(MESSAGES[0])  # an initiative, so that the follow-up has questions to refer to
    history = [Turn(MESSAGES[0], first)]
    timings: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for message in [*MESSAGES, OUT_OF_SCOPE, ENGLISH, "Berätta mer om fråga 3"]:
            pipeline.index.embedder.forget_queries()  # every round embeds the message again, as a new chef would
            t = time.perf_counter()
            answer = pipeline.ask(message, history)
            timings.setdefault(answer.kind, []).append(time.perf_counter() - t)
    every = [x for xs in timings.values() for x in xs]
    embed = []
    for message in MESSAGES:
        pipeline.index.embedder.forget_queries()
        t = time.perf_counter()
        pipeline.index.embedder.embed_query(message)
        embed.append(time.perf_counter() - t)
    print(f"\n{label}: {pipeline.index.ledger.chunk_count()} avsnitt, uppvärmning {warm_up:.2f} s, "
          f"{len(every)} svar ({ROUNDS} varv)")
    print(f"  alla svar      p50 {percentile(every, 50) * 1000:7.1f} ms   p95 {percentile(every, 95) * 1000:7.1f} ms")
    print(f"  (varav frågevektorn p50 {percentile(embed, 50) * 1000:.1f} ms; systemlast {os.getloadavg()[0]:.1f} på {os.cpu_count()} kärnor)")
    for kind, xs in sorted(timings.items()):
        print(f"  {kind:<14} p50 {percentile(xs, 50) * 1000:7.1f} ms   p95 {percentile(xs, 95) * 1000:7.1f} ms   (n={len(xs)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.answer", description="Svarstid med varmt index.")
    parser.add_argument("--sizes", default="10000", help="Antal syntetiska avsnitt utöver korpusen, kommaseparerat.")
    args = parser.parse_args(argv)
    configure()
    print(__doc__.split("\n\n")[1].strip())
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        started = time.perf_counter()
        base = synthetic.bundled(Path(tmp) / "korpus")
        print(f"\nInläsning av den medföljande korpusen: {time.perf_counter() - started:.1f} s")
        measure(Pipeline.from_settings(base, index=Index(base)), "Medföljande korpus")
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            settings, seconds = synthetic.with_synthetic(base, Path(tmp) / f"syntetisk-{size}", size)
            print(f"\n{size} syntetiska avsnitt skrivna direkt till Chroma och liggaren på {seconds:.1f} s")
            measure(Pipeline.from_settings(settings, index=Index(settings)), f"Medföljande korpus + {size} syntetiska avsnitt")


if __name__ == "__main__":
    main()
