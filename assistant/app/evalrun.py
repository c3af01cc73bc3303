"""Running the evaluation (`python -m evals`) from the app, exactly as on the command line.

A run started from the page is a subprocess watched by a thread: the page only polls its progress, so no
session or page waits for it. One run at a time per server; a second start returns the running one.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings

GOLD_DIR = PROJECT_ROOT / "evals" / "gold"


GOLD_CHOICES = {"": "Alla mängder (utvecklingsdel och testdel)", "dev": "Bara utvecklingsdelen (dev)",
                "test": "Bara testdelen (test)"}


def gold_sets(gold_dir: Path | None = None) -> list[Path]:
    """What a strateg can evaluate: the whole gold folder, or one of its splits."""
    gold_dir = gold_dir or GOLD_DIR
    if not gold_dir.is_dir():
        return []
    return [gold_dir / part if part else gold_dir for part in GOLD_CHOICES if (gold_dir / part).is_dir()]


def gold_label(path: Path, gold_dir: Path | None = None) -> str:
    gold_dir = gold_dir or GOLD_DIR
    part = "" if path == gold_dir else path.name
    return GOLD_CHOICES.get(part, path.name)


@dataclass(frozen=True)
class EvalRun:
    out_dir: Path
    ok: bool
    log: str  # the tail of the script's output, for the strategist to read when it fails

    def _read(self, name: str) -> str | None:
        path = self.out_dir / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    @property
    def summary(self) -> str | None:
        """The one-screen Swedish summary (no images), in words for a strateg."""
        text = self._read("summary.md")
        return for_strateg(text) if text else None

    @property
    def details(self) -> str | None:
        """Tables per split and set, the weakest cases (no images), in words for a strateg."""
        text = self._read("details.md")
        return for_strateg(text) if text else None

    @property
    def plots(self) -> list[tuple[Path, str]]:
        """(image, Swedish caption) of each plot the run wrote that exists and is a PNG image."""
        listing = self._read("plots.txt") or ""
        found = []
        for line in listing.splitlines():
            name, _, caption = line.partition("\t")
            path = self.out_dir / name
            if name and "/" not in name and _is_png(path):
                found.append((path, for_strateg(caption.strip()) or "Diagram från utvärderingen"))
        return found

    @property
    def label(self) -> str:
        """When the run was made and over what, in Swedish ('27 november 2026 kl. 14.05, testdelen')."""
        part = self.out_dir.name[16:]
        try:
            when = datetime.strptime(self.out_dir.name[:15], "%Y%m%d-%H%M%S")
        except ValueError:
            return "okänd tidpunkt"
        what = {"dev": "utvecklingsdelen", "test": "testdelen"}.get(part, "alla mängder")
        return f"{when.day} {MONTHS[when.month - 1]} {when.year} kl. {when:%H.%M}, {what}"


MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")
_PLAIN = (  # developer words in the report → what a strateg reads
    (re.compile(r"Guldmängd: `[^`]*`, (\d+) fall, alla genom samma `Pipeline\.ask` som appen använder\."),
     r"\1 fall, alla besvarade på samma sätt som i appen."),
    (re.compile(r"`Pipeline\.ask`"), "assistenten"),
    (re.compile(r"- `[^`]*` \("), "- ("),  # case ids in the list of the weakest cases
    (re.compile(r" \((?:MRR|nDCG)@\d+\)| \((?:F1|chrF)\)"), ""),
    (re.compile(r"\b(dev|test)-delen\b"), lambda m: "utvecklingsdelen" if m.group(1) == "dev" else "testdelen"),
    (re.compile(r" \((dev|test), "), " ("),
    (re.compile(r"`([^`]*)`"), r"\1"),
)


def for_strateg(text: str, dimension_name: Callable[[str], str] | None = None) -> str:
    """The evaluation's report without ids, file paths or code names; dimension ids become their names."""
    for pattern, plain in _PLAIN:
        text = pattern.sub(plain, text)
    ids, names = _dimensions(str(Settings().question_bank))
    for dim in ids:
        text = re.sub(rf"(?<![\w-]){re.escape(dim)}(?![\w-])", (dimension_name or names)(dim), text)
    return text


@functools.lru_cache(maxsize=4)
def _dimensions(bank_path: str) -> tuple[Sequence[str], Callable[[str], str]]:
    """The question bank's dimension ids (longest first) and their Swedish names."""
    try:
        from assistant.coaching.questionbank import QuestionBank

        bank = QuestionBank.load(Path(bank_path))
        return sorted({q.dimension for q in bank.questions}, key=len, reverse=True), bank.dimension_name
    except Exception:  # noqa: BLE001 - the report is still readable with ids
        return (), str


def _is_png(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return path.is_file() and fh.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def runs_dir(settings: Settings) -> Path:
    return settings.data_dir / "evals"


def _command(gold: Path, out: Path, previous: EvalRun | None) -> list[str]:
    command = [sys.executable, "-m", "evals", "--gold", str(gold), "--out", str(out)]
    if previous is not None and (previous.out_dir / "results.json").exists():
        command += ["--compare", str(previous.out_dir)]  # "Sämre sedan förra körningen" compares with it
    return command


def run(settings: Settings, gold: Path, timeout: float = 3600) -> EvalRun:
    """Run to the end in this thread (the command line and tests); the page uses `start`."""
    out = _new_out(settings, gold)
    job = Job(gold, out, timeout, _command(gold, out, latest(settings)))
    job.run(settings)
    return job.result


def _new_out(settings: Settings, gold: Path) -> Path:
    return runs_dir(settings) / f"{datetime.now():%Y%m%d-%H%M%S}-{gold.name}"


_PROGRESS = re.compile(r"(\d+)/(\d+)")


@dataclass
class Job:
    """One evaluation in a subprocess: its progress (cases done of all), and its result when it has ended."""

    gold: Path
    out_dir: Path
    timeout: float  # seconds
    command: list[str]
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    finished: bool = False
    timed_out: bool = False
    cancelled: bool = False
    returncode: int | None = None
    _tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=30))
    _process: subprocess.Popen | None = None

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    @property
    def progress_text(self) -> str:
        minutes = (time.monotonic() - self.started) / 60
        if not self.total:
            return f"Utvärderingen startar (läser in modellen och indexet) … {minutes:.0f} min"
        return f"{self.done} av {self.total} fall utvärderade … {minutes:.0f} min"

    @property
    def result(self) -> EvalRun:
        ok = self.returncode == 0 and not self.timed_out and not self.cancelled
        return EvalRun(self.out_dir, ok, "\n".join(self._tail))

    @property
    def failure(self) -> str:
        """Why the run did not give a report, in Swedish."""
        if self.timed_out:
            return (f"Utvärderingen avbröts efter {self.timeout / 60:g} minuter (tidsgränsen). Höj gränsen med "
                    "ASSISTANT_EVAL_TIMEOUT_MINUTES eller utvärdera en mindre del.")
        if self.cancelled:
            return "Utvärderingen avbröts."
        return "Utvärderingen misslyckades. Utdrag ur loggen:"

    def run(self, settings: Settings) -> None:
        """Run the subprocess to its end, reading its output as it comes; stop it at the timeout."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir)}
        try:
            self._process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        except OSError as exc:
            self._tail.append(f"Kunde inte starta utvärderingen: {exc}")
            self.returncode, self.finished = -1, True
            return
        if self.cancelled:  # cancelled before the process existed: stop it now rather than let it run
            self._process.kill()
        timer = threading.Timer(self.timeout, self._expire)
        timer.daemon = True
        timer.start()
        try:
            assert self._process.stdout is not None
            for line in self._process.stdout:  # tqdm's \r updates arrive as lines too (universal newlines)
                found = _PROGRESS.findall(line)
                if found and "Utvärderar" in line:
                    self.done, self.total = (int(x) for x in found[-1])
                elif line.strip():
                    self._tail.append(line.rstrip())
            self.returncode = self._process.wait()
        finally:
            timer.cancel()
            self.finished = True

    def _expire(self) -> None:
        self.timed_out = True
        self.stop()

    def cancel(self) -> None:
        self.cancelled = True
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()


_jobs_lock = threading.Lock()
_job: Job | None = None


def current() -> Job | None:
    """The run started from the app, running or the last one that ended (None before the first)."""
    return _job


def start(settings: Settings, gold: Path, timeout: float, command: list[str] | None = None) -> Job:
    """Start a run in the background, or return the one already running (never two at once)."""
    global _job
    with _jobs_lock:
        if _job is not None and not _job.finished:
            return _job
        out = _new_out(settings, gold)
        job = Job(gold, out, timeout, command or _command(gold, out, latest(settings)))
        threading.Thread(target=job.run, args=(settings,), name="utvardering", daemon=True).start()
        _job = job
        return job


def latest(settings: Settings) -> EvalRun | None:
    root = runs_dir(settings)
    done = sorted(p for p in root.glob("*") if (p / "summary.md").exists()) if root.is_dir() else []
    return EvalRun(done[-1], True, "") if done else None
