"""Which sparse engine carries the lexical channels: `python -m bench.engines` (bm25s against tantivy).

Both engines get exactly the same channel terms from our analyzer (stems,
compound parts, folded forms, character 4-grams), so only the engine differs.
Printed, never asserted:

1. SweFAQ dev nDCG@10 per channel and for the channels fused as in
   `Index.search` (lexical channels only, weights from the settings). bm25s
   uses our fitted k1 and b; tantivy's BM25 has k1 = 1.2 and b = 0.75 built in.
2. For 10,000 and 100,000 synthetic passages (sentences of the corpus
   recombined, see bench/synthetic.py): build time, query latency of the
   4-gram channel (the heaviest) and peak memory, each engine in a process of
   its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.settings import PROJECT_ROOT
from bench.retrieval import MESSAGES, peak_mb, percentile

SWEFAQ = PROJECT_ROOT.parent / "shared" / "data" / "swefaq" / "dev-beir"


def _analyzer():  # noqa: ANN202
    from assistant.ingestion.analysis import Analyzer
    from assistant.ingestion.decompound import Decompounder

    return Analyzer(Decompounder.from_hunspell())


class Tantivy:
    """The channels as whitespace-tokenised fields of one tantivy index; one boolean query per channel."""

    def __init__(self, channels: tuple[str, ...], path: str) -> None:
        import tantivy

        self.t = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("row", stored=True, indexed=False, fast=True)
        for channel in channels:
            builder.add_text_field(channel, stored=False, tokenizer_name="whitespace", index_option="freq")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=path)

    def build(self, rows: list[dict[str, list[str]]]) -> None:
        writer = self.index.writer(heap_size=200_000_000, num_threads=1)
        for i, terms in enumerate(rows):
            writer.add_document(self.t.Document(row=i, **{c: " ".join(ts) for c, ts in terms.items()}))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def scores(self, channel: str, terms: list[str], n: int, depth: int = 200) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        if not terms:
            return out
        query = self.t.Query.boolean_query(
            [(self.t.Occur.Should, self.t.Query.term_query(self.schema, channel, term)) for term in terms])
        for score, address in self.searcher.search(query, depth).hits:
            out[self.searcher.doc(address)["row"][0]] = score
        return out


def quality() -> list[tuple[str, float, float]]:
    """(row label, bm25s nDCG@10, tantivy nDCG@10) on SweFAQ dev, documents as whole answers."""
    from assistant.ingestion.analysis import CHANNELS
    from assistant.ingestion.lexical import LexicalIndex
    from assistant.settings import Settings
    from assistant.text import content_tokens
    from evals.beir import load_beir
    from evals.ranking import ndcg_at_k

    settings = Settings()
    analyzer = _analyzer()
    corpus, queries, qrels = load_beir(SWEFAQ)
    ids = [str(d["_id"]) for d in corpus]
    tokens = [content_tokens(f"{d.get('title') or ''}\n{d['text']}") for d in corpus]
    ours = LexicalIndex.build(zip(ids, tokens), analyzer, k1=settings.bm25_k1, b=settings.bm25_b)
    with tempfile.TemporaryDirectory(prefix="tantivy-") as tmp:
        other = Tantivy(CHANNELS, tmp)
        other.build([analyzer.analyze(t) for t in tokens])
        judged = [(q, text) for q, text in queries.items() if q in qrels]
        per = {"bm25s": {c: [] for c in CHANNELS}, "tantivy": {c: [] for c in CHANNELS}}
        for _, text in judged:
            q_tokens = content_tokens(text)
            for channel, s in ours.channel_scores(q_tokens).items():
                per["bm25s"][channel].append(s)
            terms = analyzer.analyze(q_tokens)
            for channel in CHANNELS:
                per["tantivy"][channel].append(other.scores(channel, terms[channel], len(ids)))

    def ndcg(matrix: list[np.ndarray]) -> float:
        return float(np.mean([ndcg_at_k([ids[i] for i in np.argsort(-m)[:10] if m[i] > 0], qrels[q], 10)
                              for m, (q, _) in zip(matrix, judged)]))

    def fused(engine: str) -> list[np.ndarray]:
        out = []
        for i in range(len(judged)):
            total = np.zeros(len(ids), dtype=np.float32)
            for channel, weight in settings.channel_weights.items():
                s = per[engine][channel][i]
                if weight and s.max() > 0:
                    total += weight * s / s.max()
            out.append(total)
        return out

    rows = [(f"bara {c}", ndcg(per["bm25s"][c]), ndcg(per["tantivy"][c])) for c in CHANNELS]
    rows.append(("lexikala kanaler sammanvägda", ndcg(fused("bm25s")), ndcg(fused("tantivy"))))
    return rows


def synthetic_texts(count: int, seed: int = 7) -> list[list[str]]:
    from assistant.text import content_tokens, split_sentences

    sentences = [s for p in sorted((PROJECT_ROOT / "corpus").glob("*.md"))
                 for s in split_sentences(p.read_text(encoding="utf-8")) if len(s) > 30]
    rng = random.Random(seed)
    return [content_tokens(" ".join(rng.sample(sentences, rng.randint(4, 8)))) for _ in range(count)]


def worker(engine: str, count: int) -> dict[str, float]:
    from assistant.text import content_tokens

    analyzer = _analyzer()
    docs = synthetic_texts(count)
    queries = [analyzer.analyze(content_tokens(m))["gram"] for m in MESSAGES]
    started = time.perf_counter()
    timings = []
    if engine == "bm25s":
        from assistant.ingestion.lexical import LexicalIndex

        index = LexicalIndex.build(((str(i), t) for i, t in enumerate(docs)), analyzer)
        built = time.perf_counter() - started
        channel = index.channels["gram"]
        for _ in range(3):
            for terms in queries:
                t = time.perf_counter()
                scores = channel.scores(terms)
                np.argpartition(-scores, 200)[:200]
                timings.append(time.perf_counter() - t)
    else:
        with tempfile.TemporaryDirectory(prefix="tantivy-") as tmp:
            index = Tantivy(("gram",), tmp)
            index.build([{"gram": analyzer.analyze(t)["gram"]} for t in docs])
            built = time.perf_counter() - started
            for _ in range(3):
                for terms in queries:
                    t = time.perf_counter()
                    index.scores("gram", terms, count)
                    timings.append(time.perf_counter() - t)
    return {"build_s": built, "p50_ms": percentile(timings, 50) * 1000, "p95_ms": percentile(timings, 95) * 1000,
            "peak_mb": peak_mb()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--worker", choices=("bm25s", "tantivy"), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.count)))
        return 0
    print(__doc__.split("\n\n")[1].strip(), "\n")
    if SWEFAQ.exists():
        print("| SweFAQ dev, nDCG@10 | bm25s | tantivy |\n|---|---|---|")
        for label, a, b in quality():
            print(f"| {label} | {a:.3f} | {b:.3f} |")
    print("\n| Avsnitt | Motor | Bygge | 4-gramskanalen p50 / p95 | Minne (topp) |\n|---|---|---|---|---|")
    for count in (int(s) for s in args.sizes.split(",") if s.strip()):
        for engine in ("bm25s", "tantivy"):
            proc = subprocess.run([sys.executable, "-m", "bench.engines", "--worker", engine, "--count", str(count)],
                                  cwd=PROJECT_ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{engine} {count}: misslyckades\n{proc.stderr[-1500:]}", file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"| {count:,} | {engine} | {r['build_s']:.1f} s | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms "
                  f"| {r['peak_mb']:.0f} MB |".replace(",", " "))
    print(f"\nSystemlast {os.getloadavg()[0]:.1f} på {os.cpu_count()} kärnor.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
