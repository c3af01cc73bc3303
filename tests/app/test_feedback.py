"""Feedback is stored with its answer and deleted after the retention period."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.answer import Answer, Citation, CoachingQuestion
from assistant.app.feedback import FeedbackStore

ANSWER = Answer(
    text="Här är frågorna.",
    questions=[CoachingQuestion("q1", "mal-och-nytta", "Vilken nytta ger satsningen?", "För att kunna följa upp.", [1])],
    citations=[Citation(1, "nyttorealisering", "Nyttorealisering", None, "Vad nyttorealisering betyder", "En nytta är …")],
)


def test_rating_and_comment_are_stored_with_the_answer(tmp_path) -> None:  # noqa: ANN001
    store = FeedbackStore(tmp_path / "feedback.sqlite3", retention_days=30)
    row_id = store.add("anna", 1, "Vi ska byta system", ANSWER)
    store.update(row_id, comment="  Bra frågor  ")
    store.update(row_id, score=0)
    store.close()
    rows = FeedbackStore(tmp_path / "feedback.sqlite3", retention_days=30).rows()
    assert len(rows) == 1
    row = rows[0]
    assert (row.user, row.score, row.comment, row.message) == ("anna", 0, "Bra frågor", "Vi ska byta system")
    assert row.answer.questions[0].text == "Vilken nytta ger satsningen?"
    assert row.answer.citations[0].section == "Vad nyttorealisering betyder"


def test_rows_older_than_retention_are_deleted(tmp_path) -> None:  # noqa: ANN001
    store = FeedbackStore(tmp_path / "feedback.sqlite3", retention_days=30)
    now = datetime.now(timezone.utc)
    store.add("anna", 1, "gammal", ANSWER, now=now - timedelta(days=31))
    store.add("anna", 1, "ny", ANSWER, now=now - timedelta(days=29))
    assert store.purge(now) == 1
    assert [r.message for r in store.rows()] == ["ny"]
    assert "30 dagar" in store.notice()


def test_invalid_values_are_refused(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="retention_days must be > 0, got 0"):
        FeedbackStore(tmp_path / "f.sqlite3", retention_days=0)
    store = FeedbackStore(tmp_path / "f.sqlite3", retention_days=1)
    with pytest.raises(ValueError, match="score must be 0 or 1, got 5"):
        store.add("anna", 5, "x", ANSWER)
