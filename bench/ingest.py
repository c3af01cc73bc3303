"""Ingestion benchmark: `python -m bench.ingest` (or `make bench-ingest`). Prints, never asserts.

Measures in one run on this machine:
- raw encoder throughput: the corpus's chunk texts encoded directly (after a warm-up);
- the pipeline's throughput over the corpus into a fresh temporary index
  (loading, chunking, encoding, Chroma and the ledger);
- their ratio, which shows what the pipeline costs on top of the encoder;
- the time of a re-run over the unchanged corpus, in-process and as a fresh `ingest.py` process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.ingestion.chunking import chunk_document, index_text
from assistant.ingestion.embedding import Embedder
from assistant.ingestion.index import Index, collect_files
from assistant.ingestion.loaders import load_file
from assistant.logging_setup import configure
from assistant.settings import PROJECT_ROOT, Settings


def corpus_texts(settings: Settings, embedder: Embedder) -> list[str]:
    """The exact texts the pipeline embeds, without the index around them."""
    max_tokens = min(settings.chunk_max_tokens, embedder.max_tokens - 2)
    texts: list[str] = []
    for path in collect_files([settings.corpus_dir]):
        doc = load_file(path, int(settings.max_file_mb * 1_000_000))
        texts.extend(index_text(c) for c in chunk_document(doc, max_tokens, embedder.count_tokens))
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mät inläsningens hastighet.")
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "corpus")
    args = parser.parse_args(argv)
    configure()
    import torch

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", corpus_dir=args.corpus)
        embedder = Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
        started = time.perf_counter()
        embedder.warm_up()
        load_seconds = time.perf_counter() - started

        texts = corpus_texts(settings, embedder)
        # Warm-up over all texts: the first batch of each new padded length is much slower
        # (kernels are prepared per shape), which would otherwise be charged to whoever runs first.
        started = time.perf_counter()
        embedder.embed_passages(texts)
        cold_seconds = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        embedder.embed_passages(texts)
        raw_seconds, raw_cpu = time.perf_counter() - started, time.process_time() - cpu
        raw_rate = len(texts) / raw_seconds

        index = Index(settings, embedder=embedder)
        try:
            cpu = time.process_time()
            report = index.ingest([settings.corpus_dir])
            pipeline_cpu = time.process_time() - cpu
            pipeline_rate = report.chunks / report.seconds
            rerun = index.ingest([settings.corpus_dir])
        finally:
            index.close()

        env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir)}
        started = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "ingest.py"), "--quiet", str(settings.corpus_dir)],
            env=env, capture_output=True, text=True, cwd=PROJECT_ROOT,
        )
        cli_seconds = time.perf_counter() - started

    words = sum(len(t.split()) for t in texts)
    rows = [
        ("Dokument / avsnitt", f"{len(report.added)} / {len(texts)} (i snitt {words / len(texts):.0f} ord)"),
        ("Modell laddad på", f"{load_seconds:.1f} s ({embedder.model_name}, {torch.get_num_threads()} trådar)"),
        ("Ren kodare, kall", f"{len(texts) / cold_seconds:.1f} avsnitt/s ({cold_seconds:.1f} s, första passet)"),
        ("Ren kodare", f"{raw_rate:.1f} avsnitt/s ({raw_seconds:.1f} s, efter uppvärmning)"),
        ("Hela inläsningen", f"{pipeline_rate:.1f} avsnitt/s ({report.seconds:.1f} s, {report.chunks} avsnitt)"),
        ("Kvot inläsning/kodare", f"{pipeline_rate / raw_rate:.2f} (räknat på cpu-tid: {raw_cpu / pipeline_cpu:.2f})"),
        ("Cpu-tid kodare/inläsning", f"{raw_cpu:.1f} s / {pipeline_cpu:.1f} s"),
        ("Belastning (1 min)", f"{load_before:.2f} före, {os.getloadavg()[0]:.2f} efter; {os.cpu_count()} kärnor"),
        ("Omkörning utan ändringar", f"{rerun.seconds:.2f} s, {rerun.chunks} avsnitt beräknade"),
        ("Dito som ny process", f"{cli_seconds:.1f} s (ingest.py, slutkod {cli.returncode})"),
    ]
    if max(load_before, os.getloadavg()[0]) > 1.5:
        rows.append(("OBS", "andra processer använde processorn under mätningen; jämför cpu-tiderna"))
    if report.failed or rerun.chunks:
        rows.append(("OBS", f"misslyckade: {report.failed}, omkörningen beräknade {rerun.chunks} avsnitt"))
    width = max(len(label) for label, _ in rows)
    print(f"Inläsning av {settings.corpus_dir}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
