"""Heavy objects shared by all sessions of one Streamlit server: the model, the index, the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from assistant.app.feedback import FeedbackStore, SqlFeedbackStore, open_feedback
from assistant.app.stores import location
from assistant.ingestion.index import Index
from assistant.settings import Settings

log = logging.getLogger(__name__)
PREPARING = "Förbereder assistenten. Första gången byggs indexet över vägledningen, det kan ta någon minut …"


_NOT_INDEX = {"auth_mode", "accounts_file", "strateg_emails", "strateg_oids", "strateg_group", "group_claim",
              "signin_free_failures", "signin_lock_failures", "signin_client_free_failures",
              "signin_client_lock_failures", "signin_delay_seconds", "signin_lock_minutes", "signin_window_minutes",
              "trusted_proxy_hops", "feedback_retention_days", "conversation_retention_days",
              "session_hours"}


def _key(settings: Settings) -> str:
    """Sessions with the same index settings share one index and pipeline."""
    return settings.model_dump_json(exclude=_NOT_INDEX)


@st.cache_resource(show_spinner=False)
def _embedder(model: str, device: str, batch_size: int):  # noqa: ANN202
    from assistant.ingestion.embedding import Embedder

    return Embedder(model, device, batch_size)


@st.cache_resource(show_spinner=False)
def _index(key: str, _settings: Settings) -> Index:
    embedder = _embedder(_settings.embedding_model, _settings.embedding_device, _settings.embedding_batch_size)
    return Index(_settings, embedder=embedder)


def index(settings: Settings) -> Index:
    return _index(_key(settings), settings)


@st.cache_resource(show_spinner=PREPARING)
def _prepared(key: str, _settings: Settings) -> bool:
    """Build the index of the bundled corpus if it is empty, then load the model. Once per server."""
    idx = index(_settings)
    if idx.is_empty():
        report = idx.ingest([_settings.corpus_dir])
        log.info("built the index of the bundled corpus: %s", report.summary())
    try:  # ledger, vectors and lexical index agree (a writer killed mid-write leaves orphans); cheap when they do
        check = idx.check(wait=False)
        log.info("index check at start: %s", check.counts())
    except Exception:  # noqa: BLE001 - the app answers from the ledger either way; the log says what failed
        log.exception("the index check at start failed")
    idx.warm_up()
    return True


def prepared_index(settings: Settings) -> Index:
    _prepared(_key(settings), settings)
    return index(settings)


@st.cache_resource(show_spinner=False)
def _pipeline(key: str, _settings: Settings):  # noqa: ANN202
    from assistant.pipeline import Pipeline

    return Pipeline.from_settings(_settings, index=index(_settings))


def pipeline(settings: Settings):  # noqa: ANN201 - a Pipeline
    """The pipeline with a ready index (built from the bundled corpus on first start)."""
    prepared_index(settings)
    return _pipeline(_key(settings), settings)


@st.cache_resource(show_spinner=False)
def _feedback(where: str, retention_days: int, _settings: Settings) -> FeedbackStore | SqlFeedbackStore:
    return open_feedback(_settings)


def feedback(settings: Settings) -> FeedbackStore | SqlFeedbackStore:
    """The feedback store (SQLite under data_dir, or the shared database), one per file or database URL."""
    store = _feedback(location(settings, settings.feedback_path), settings.feedback_retention_days, settings)
    store.purge()
    return store


@st.cache_resource(show_spinner=False)
def _dimension_names(path: str) -> dict[str, str]:
    from pathlib import Path

    from assistant.coaching.questionbank import QuestionBank

    bank = QuestionBank.load(Path(path))
    return {d.id: d.name for d in bank.dimensions}


def dimension_name(settings: Settings) -> Callable[[str], str]:
    try:
        names = _dimension_names(str(settings.question_bank))
    except Exception:  # noqa: BLE001 - a broken bank must not hide answers; ids are still readable
        log.exception("could not load dimension names")
        names = {}
    return lambda dim: names.get(dim, dim)
