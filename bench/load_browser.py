"""Real browsers against one real server: `python -m bench.load_browser [--contexts 5 --messages 3]`. Prints figures.

A smaller confirmation of bench/load.py: one `streamlit run app.py` on loopback (started as the app tests start
it, tests/app/conftest.py) on an index of the bundled corpus, and N headless Chromium contexts (Debian's
/usr/bin/chromium through Playwright), each signed in as its own chef and sending its messages with think time.
Latency is from Enter in the chat box to the answer being shown (the spinner gone and the answer's text drawn).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from bench import synthetic
from bench.load import conversation
from bench.retrieval import percentile

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 300_000
# The k-th answer is shown: 2k chat messages, no spinner, and the last one holds the answer's text.
SHOWN = """([k]) => {
  const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
  if (msgs.length < 2 * k || document.querySelector('[data-testid="stSpinner"]')) return false;
  return msgs[2 * k - 1].innerText.trim().length > 40;
}"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load_browser", description="Riktiga webbläsare mot en server.")
    parser.add_argument("--contexts", type=int, default=5, help="Antal samtidiga webbläsarkontexter (chefer).")
    parser.add_argument("--messages", type=int, default=3, choices=(1, 2, 3), help="Meddelanden per chef (1–3).")
    parser.add_argument("--think", type=float, default=4.0, help="Medelvärde för betänketiden, sekunder.")
    parser.add_argument("--workdir", type=Path, default=None, help="Katalog för indexet (behålls och återanvänds).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit("Chromium saknas (/usr/bin/chromium): kör `make browser` eller apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    from tests.app.conftest import CHROMIUM_ARGS, start_app, wait_healthy
    from tests import builders

    print(__doc__.split("\n\n")[1].strip())
    with tempfile.TemporaryDirectory(prefix="bench-load-browser-") as tmp:
        root = args.workdir or Path(tmp)
        started = time.perf_counter()
        base = synthetic.bundled(root / "korpus")
        data = Path(tmp) / "data"
        shutil.copytree(base.data_dir, data, ignore=shutil.ignore_patterns("accounts*", "feedback*", "conversations*",
                                                                               "sessions*"))
        print(f"Index klart på {time.perf_counter() - started:.1f} s")
        accounts = {f"chef-{i}": ("chef", f"chef-{i}-losenord-bank") for i in range(args.contexts)}
        accounts["chef-varm"] = ("chef", "chef-varm-losenord-bank")  # only for warming the server up
        proc, url, log = start_app(data, base.corpus_dir, accounts)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        try:
            wait_healthy(url, proc, timeout=120)
            rng = random.Random(args.seed)
            plans = [(name, conversation(rng)[: args.messages], random.Random(rng.random()))
                     for name in accounts if name != "chef-varm"]

            def chef(name: str, messages: list[str], own: random.Random) -> None:
                # Playwright's sync API belongs to one thread: each chef has its own driver and browser.
                try:
                    with sync_playwright() as p:
                        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE").new_page()
                        page.set_default_timeout(TIMEOUT_MS)
                        page.goto(url)
                        page.get_by_label("Användarnamn").fill(name)
                        page.get_by_label("Lösenord").fill(accounts[name][1])
                        page.get_by_role("button", name="Logga in").click()
                        page.get_by_text("Exempel att börja med").wait_for()
                        for k, message in enumerate(messages, start=1):
                            time.sleep(own.expovariate(1 / args.think) if args.think > 0 else 0)
                            box = page.get_by_test_id("stChatInputTextArea")
                            box.fill(message)
                            t = time.perf_counter()
                            box.press("Enter")
                            page.wait_for_function(SHOWN, arg=[k], timeout=TIMEOUT_MS)
                            with lock:
                                latencies.append(time.perf_counter() - t)
                        browser.close()
                except Exception as exc:  # noqa: BLE001 - counted and named; never the message text
                    with lock:
                        errors.append(f"{name}: {type(exc).__name__}")

            # Warm the server (index check, models) with one chef first, as a server that has been up a while.
            warm = threading.Thread(target=chef, args=("chef-varm", plans[0][1][:1], random.Random(0)))
            t0 = time.perf_counter()
            warm.start()
            warm.join()
            latencies.clear()
            if errors:
                print(f"Uppvärmningen misslyckades: {errors}")
            print(f"Servern uppvärmd (första svaret) på {time.perf_counter() - t0:.1f} s")
            threads = [threading.Thread(target=chef, args=plan, name=plan[0]) for plan in plans]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            builders.stop(proc)
            log.close()
    print(f"\n{args.contexts} webbläsare, {args.messages} meddelanden var, betänketid medel {args.think:g} s "
          f"(systemlast {os.getloadavg()[0]:.1f} på {os.cpu_count()} kärnor)")
    if latencies:
        print(f"  svar {len(latencies)}, fel {len(errors)}, från Enter till visat svar: "
              f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms, {len(latencies) / wall:.2f} svar/s")
    else:
        print(f"  inga svar, fel {len(errors)}")
    for error in errors:
        print(f"  fel: {error}")


if __name__ == "__main__":
    main()
