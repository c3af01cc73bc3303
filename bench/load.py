"""Many chefs at once: `python -m bench.load [--chefs 10,25,50] [--passages 0,10000]`. Prints figures, never asserts.

N simulated chefs, each a thread in this one process, share one Pipeline built as the Streamlit server builds
it (assistant/app/ui/resources.py: one embedder, one Index, `Pipeline.from_settings`, warmed up once). Each
chef sends three messages with think time before each (exponential, mean --think seconds): a description
of an initiative, a follow-up about one of the numbered questions, and a question about the guidance. The
conversation is passed along as the app passes it. Latency is from the call to the finished answer.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from pathlib import Path

from assistant.answer import Turn
from assistant.ingestion.embedding import Embedder
from assistant.ingestion.index import Index
from assistant.logging_setup import configure
from assistant.pipeline import Pipeline
from assistant.settings import PROJECT_ROOT, Settings
from bench import synthetic
from bench.retrieval import percentile

LIMIT_SECONDS = 2.0

# Written for this benchmark: initiatives a chef in a kommun or region might describe, in their own words.
INITIATIVES = [
    "Vi ska byta ärendehanteringssystem i socialtjänsten under nästa år och vill att handläggarna är med från start",
    "Förvaltningen planerar digitala nyckellås i hemtjänsten för ungefär 600 brukare",
    "Vi vill låta en språkmodell korta ned invånarnas synpunkter innan handläggaren läser dem",
    "Skolförvaltningen ska införa en gemensam lärplattform för alla grundskolor i kommunen",
    "Tre grannkommuner vill upphandla ett gemensamt e-arkiv och dela på förvaltningen",
    "Vi flyttar vår mejl och våra filer till ett molnbaserat kontorspaket och undrar hur sekretessen hanteras",
    "Byggnadsnämnden vill automatisera beslut om enklare bygglov",
    "Äldreomsorgen testar sensorer för nattillsyn på två särskilda boenden",
    "Kommunen ska ta fram en ny e-tjänst för ansökan om försörjningsstöd",
    "Vi ska ersätta ett gammalt ekonomisystem som bara två personer kan sköta",
    "Regionen inför digitala vårdmöten i primärvården och kommunens hemsjukvård ska kopplas på",
    "Kultur och fritid vill ha ett nytt bokningssystem för idrottshallar och lokaler",
]
WHERE = ["i en kommun med 15 000 invånare", "i en stor kommun", "i vår förvaltning", "tillsammans med regionen",
         "med en snäv budget", "och projektet ska vara klart om ett år"]
FOLLOW_UPS = ["Berätta mer om fråga {n}", "Kan du förklara fråga {n} lite närmare?",
              "Hur kan vi arbeta med fråga {n} i ledningsgruppen?", "Vad betyder fråga {n} för oss konkret?"]
QUESTIONS = [
    "Vem bör vara nyttoägare när flera förvaltningar berörs?",
    "Hur mycket ska facket och medarbetarna vara med när arbetssätt ändras?",
    "Vilka risker finns när personuppgifter hamnar hos en molnleverantör?",
    "Hur följer ledningsgruppen upp att nyttan faktiskt kommer?",
    "Vad kan vi göra för invånare som inte använder digitala kanaler?",
    "Vilka varningssignaler finns för att ett IT-projekt håller på att spåra ur?",
    "Hur ställer vi krav i en upphandling så att vi kan byta leverantör senare?",
    "När måste ett automatiserat beslut prövas av en människa?",
]


def conversation(rng: random.Random) -> list[str]:
    """One chef's three messages."""
    return [f"{rng.choice(INITIATIVES)} {rng.choice(WHERE)}.",
            rng.choice(FOLLOW_UPS).format(n=rng.randint(1, 5)),
            rng.choice(QUESTIONS)]


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []


def chef(pipeline: Pipeline, messages: list[str], think: float, rng: random.Random, results: Results) -> None:
    history: list[Turn] = []
    for message in messages:
        time.sleep(rng.expovariate(1 / think) if think > 0 else 0)
        started = time.perf_counter()
        try:
            answer = pipeline.ask(message, history)
        except Exception as exc:  # noqa: BLE001 - counted; the message text is never printed
            with results.lock:
                results.errors.append(type(exc).__name__)
            continue
        elapsed = time.perf_counter() - started
        history.append(Turn(message, answer))
        with results.lock:
            results.latencies.append(elapsed)


def run(pipeline: Pipeline, chefs: int, think: float, seed: int) -> tuple[Results, float]:
    results = Results()
    rng = random.Random(seed * 1000 + chefs)
    threads = [threading.Thread(target=chef, args=(pipeline, conversation(rng), think, random.Random(rng.random()),
                                                   results), name=f"chef-{i}") for i in range(chefs)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def measure(settings: Settings, embedder: Embedder, label: str, chef_counts: list[int], think: float,
            seed: int) -> None:
    # As the server: one embedder, one Index, one Pipeline for every session (resources.py).
    index = Index(settings, embedder=embedder)
    index.check(wait=False)
    pipeline = Pipeline.from_settings(settings, index=index)
    started = time.perf_counter()
    pipeline.warm_up()
    pipeline.ask(f"{INITIATIVES[0]}.")  # the first answer loads what warm_up leaves lazy
    print(f"\n{label}: {index.ledger.chunk_count()} avsnitt, uppvärmning {time.perf_counter() - started:.1f} s, "
          f"betänketid exponentiell med medel {think:g} s, 3 meddelanden per chef")
    print(f"  {'chefer':>6} {'svar':>5} {'fel':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'svar/s':>7} {'tid s':>6} "
          f"{'last':>5}")
    passed_at = None
    for n in chef_counts:
        embedder.forget_queries()
        results, wall = run(pipeline, n, think, seed)
        lat = results.latencies
        p50 = percentile(lat, 50) if lat else float("nan")
        p95 = percentile(lat, 95) if lat else float("nan")
        top = max(lat) if lat else float("nan")
        print(f"  {n:>6} {len(lat):>5} {len(results.errors):>4} {p50 * 1000:>8.0f} {p95 * 1000:>8.0f} {top * 1000:>8.0f} "
              f"{len(lat) / wall:>7.2f} {wall:>6.1f} {os.getloadavg()[0]:>5.1f}")
        if results.errors:
            print(f"         fel: {', '.join(sorted(set(results.errors)))}")
        if passed_at is None and lat and p95 > LIMIT_SECONDS:
            passed_at = n
    print(f"  Minsta antal chefer där p95 passerar {LIMIT_SECONDS:g} s: "
          f"{passed_at if passed_at is not None else f'över {max(chef_counts)}'}")
    pipeline.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description="Många chefer samtidigt mot en server.")
    parser.add_argument("--chefs", default="10,25,50", help="Antal samtidiga chefer per omgång, kommaseparerat.")
    parser.add_argument("--think", type=float, default=4.0,
                        help="Medelvärde för betänketiden före varje meddelande, sekunder (exponentialfördelad).")
    parser.add_argument("--passages", default="0",
                        help="Syntetiska avsnitt utöver den medföljande korpusen, kommaseparerat (t.ex. 0,10000).")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="Katalog för indexen, behålls och återanvänds (standard: en tillfällig katalog).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    chef_counts = [int(s) for s in args.chefs.split(",") if s.strip()]
    sizes = [int(s) for s in args.passages.split(",") if s.strip()]
    if not chef_counts or min(chef_counts) <= 0:
        parser.error("--chefs ska vara positiva heltal, t.ex. 10,25,50")
    configure()
    print(__doc__.split("\n\n")[1].strip())
    print(f"Maskin: {os.cpu_count()} kärnor, systemlast vid start {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        root = args.workdir or Path(tmp)
        settings = Settings()
        embedder = Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
        started = time.perf_counter()
        base = synthetic.bundled(root / "korpus", embedder)
        index = Index(base, embedder=embedder)
        index.ingest([PROJECT_ROOT / "corpus"], prune=True)  # a kept workdir follows the corpus: only changes embed
        index.close()
        print(f"Den medföljande korpusen inläst på {time.perf_counter() - started:.1f} s")
        for size in sizes:
            if size == 0:
                measure(base, embedder, "Medföljande korpus", chef_counts, args.think, args.seed)
                continue
            settings, seconds = synthetic.with_synthetic(base, root / f"syntetisk-{size}", size)
            print(f"\n{size} syntetiska avsnitt skrivna direkt till Chroma och liggaren på {seconds:.1f} s")
            measure(settings, embedder, f"Medföljande korpus + {size} syntetiska avsnitt", chef_counts, args.think, args.seed)


if __name__ == "__main__":
    main()
