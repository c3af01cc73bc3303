"""Logging and telemetry defaults applied at every entry point."""

from __future__ import annotations

import logging
import os


def configure(level: str = "WARNING") -> None:
    # No telemetry from Chroma's client (posthog) or from Hugging Face libraries.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=getattr(logging, level.upper(), logging.WARNING), format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("chromadb", "httpx", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
