"""Running the evaluation (`python -m evals`) from the app, exactly as on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings

GOLD_DIR = PROJECT_ROOT / "evals" / "gold"


GOLD_CHOICES = {"": "Alla mängder (utvecklingsdel och testdel)", "dev": "Bara utvecklingsdelen (dev)",
                "test": "Bara testdelen (test)"}


def gold_sets(gold_dir: Path = GOLD_DIR) -> list[Path]:
    """What a strateg can evaluate: the whole gold folder, or one of its splits."""
    if not gold_dir.is_dir():
        return []
    return [gold_dir / part if part else gold_dir for part in GOLD_CHOICES if (gold_dir / part).is_dir()]


def gold_label(path: Path, gold_dir: Path = GOLD_DIR) -> str:
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
        """The one-screen Swedish summary (no images)."""
        return self._read("summary.md")

    @property
    def details(self) -> str | None:
        """Tables per split and set, the weakest cases (no images)."""
        return self._read("details.md")

    @property
    def plots(self) -> list[tuple[Path, str]]:
        """(image, Swedish caption) of each plot the run wrote."""
        listing = self._read("plots.txt") or ""
        found = []
        for line in listing.splitlines():
            name, _, caption = line.partition("\t")
            if name and (self.out_dir / name).is_file():
                found.append((self.out_dir / name, caption))
        return found


def runs_dir(settings: Settings) -> Path:
    return settings.data_dir / "evals"


def run(settings: Settings, gold: Path, timeout: float = 3600) -> EvalRun:
    out = runs_dir(settings) / f"{datetime.now():%Y%m%d-%H%M%S}-{gold.name}"
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "evals", "--gold", str(gold), "--out", str(out)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
    return EvalRun(out, proc.returncode == 0, tail)


def latest(settings: Settings) -> EvalRun | None:
    root = runs_dir(settings)
    done = sorted(p for p in root.glob("*") if (p / "summary.md").exists()) if root.is_dir() else []
    return EvalRun(done[-1], True, "") if done else None
