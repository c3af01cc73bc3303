"""Feedback on answers, kept with the answer it is about: in SQLite under data_dir, or in the shared
PostgreSQL database when ASSISTANT_DATABASE_URL is set (`open_feedback` picks).

Rows older than the retention period (ASSISTANT_FEEDBACK_RETENTION_DAYS) are
deleted whenever the store is opened, and on demand with `purge`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from assistant.answer import Answer
from assistant.app.stores import RetainedRows, database_url
from assistant.storage import schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    user TEXT NOT NULL,
    score INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback(created_at);
"""

STORED_FIELDS_SV = "betyget (tumme upp eller ner), din kommentar, ditt meddelande, svaret med källor, ditt användarnamn och tidpunkten"


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created_at: str
    user: str
    score: int  # 1 = helpful, 0 = not helpful
    comment: str
    message: str
    answer: Answer


class FeedbackStore:
    def __init__(self, path: Path, retention_days: int) -> None:
        if retention_days <= 0:
            raise ValueError(f"retention_days must be > 0, got {retention_days}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention_days = retention_days
        self._lock = threading.Lock()  # one connection shared by every session's thread: one statement at a time
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self.purge()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, user: str, score: int, message: str, answer: Answer, comment: str = "",
            now: datetime | None = None) -> int:
        if score not in (0, 1):
            raise ValueError(f"score must be 0 or 1, got {score}")
        created = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        record = json.dumps(answer.to_record(), ensure_ascii=False)
        with self._lock:  # lastrowid is the connection's last insert: no other thread's insert in between
            cur = self._db.execute(
                "INSERT INTO feedback(created_at, user, score, comment, message, answer) VALUES (?, ?, ?, ?, ?, ?)",
                (created, user, score, comment.strip(), message, record),
            )
            return int(cur.lastrowid)

    def update(self, row_id: int, score: int | None = None, comment: str | None = None) -> None:
        with self._lock:
            if score is not None:
                self._db.execute("UPDATE feedback SET score = ? WHERE id = ?", (score, row_id))
            if comment is not None:
                self._db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), row_id))

    def rows(self) -> list[FeedbackRow]:
        with self._lock:
            found = self._db.execute(
                "SELECT id, created_at, user, score, comment, message, answer FROM feedback ORDER BY id"
            ).fetchall()
        return [FeedbackRow(*r[:6], answer=Answer.from_record(json.loads(r[6]))) for r in found]

    def purge(self, now: datetime | None = None) -> int:
        """Delete rows older than the retention period; returns how many were deleted."""
        cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=self.retention_days)
        with self._lock:
            cur = self._db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff.isoformat(timespec="seconds"),))
            return cur.rowcount

    def notice(self) -> str:
        """What is stored and for how long, in Swedish, for the app to show."""
        return (
            f"När du ger återkoppling sparas {STORED_FIELDS_SV} i en lokal databas hos er organisation. "
            f"Inget skickas vidare. Återkopplingen raderas automatiskt efter {self.retention_days} dagar."
        )


class SqlFeedbackStore(RetainedRows):
    """The same store in the database of ASSISTANT_DATABASE_URL (shared by every app server); thread-safe through
    the engine's connection pool."""

    def add(self, user: str, score: int, message: str, answer: Answer, comment: str = "",
            now: datetime | None = None) -> int:
        feedback = schema.feedback
        if score not in (0, 1):
            raise ValueError(f"score must be 0 or 1, got {score}")
        created = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        record = json.dumps(answer.to_record(), ensure_ascii=False)
        with self._conn() as conn:
            return int(conn.execute(
                insert(feedback).values(created_at=created, user=user, score=score, comment=comment.strip(),
                                        message=message, answer=record).returning(feedback.c.id)).scalar_one())

    def update(self, row_id: int, score: int | None = None, comment: str | None = None) -> None:
        feedback = schema.feedback
        values: dict[str, object] = {}
        if score is not None:
            values["score"] = score
        if comment is not None:
            values["comment"] = comment.strip()
        if values:
            with self._conn() as conn:
                conn.execute(update(feedback).where(feedback.c.id == row_id).values(**values))

    def rows(self) -> list[FeedbackRow]:
        t = schema.feedback
        with self._conn() as conn:
            found = conn.execute(select(t.c.id, t.c.created_at, t.c.user, t.c.score, t.c.comment, t.c.message,
                                        t.c.answer).order_by(t.c.id)).all()
        return [FeedbackRow(*r[:6], answer=Answer.from_record(json.loads(r[6]))) for r in found]

    def purge(self, now: datetime | None = None) -> int:
        """Delete rows older than the retention period; returns how many were deleted."""
        feedback = schema.feedback
        cutoff = ((now or datetime.now(timezone.utc)) - timedelta(days=self.retention_days)).isoformat(
            timespec="seconds")
        with self._conn() as conn:
            return conn.execute(delete(feedback).where(feedback.c.created_at < cutoff)).rowcount

    def notice(self) -> str:
        """What is stored and for how long, in Swedish, for the app to show."""
        return (
            f"När du ger återkoppling sparas {STORED_FIELDS_SV} i er organisations databas, som appens servrar "
            f"delar. Inget skickas vidare. Återkopplingen raderas automatiskt efter {self.retention_days} dagar."
        )


def open_feedback(settings) -> FeedbackStore | SqlFeedbackStore:  # noqa: ANN001 - a Settings
    """The feedback store the settings name: the shared database if ASSISTANT_DATABASE_URL is set, else
    data_dir/feedback.sqlite3."""
    url = database_url(settings)
    if url is not None:
        return SqlFeedbackStore(url, settings.feedback_retention_days)
    return FeedbackStore(settings.feedback_path, settings.feedback_retention_days)
