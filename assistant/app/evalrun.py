"""Running the evaluation (`python -m evals`) from the app, exactly as on the command line."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings

GOLD_DIR = PROJECT_ROOT / "evals" / "gold"


def available() -> bool:
    try:
        return importlib.util.find_spec("evals.__main__") is not None
    except (ImportError, ValueError):
        return False


def gold_sets(gold_dir: Path = GOLD_DIR) -> list[Path]:
    return sorted(gold_dir.glob("*.jsonl")) if gold_dir.is_dir() else []


@dataclass(frozen=True)
class EvalRun:
    out_dir: Path
    ok: bool
    log: str  # the tail of the script's output, for the strategist to read when it fails

    @property
    def report(self) -> str | None:
        path = self.out_dir / "report.md"
        return path.read_text(encoding="utf-8") if path.exists() else None

    @property
    def plots(self) -> list[Path]:
        return sorted(self.out_dir.glob("*.png"))


def runs_dir(settings: Settings) -> Path:
    return settings.data_dir / "evals"


def run(settings: Settings, gold: Path, timeout: float = 3600) -> EvalRun:
    out = runs_dir(settings) / f"{datetime.now():%Y%m%d-%H%M%S}-{gold.stem}"
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
    done = sorted(p for p in root.glob("*") if (p / "report.md").exists()) if root.is_dir() else []
    return EvalRun(done[-1], True, "") if done else None
