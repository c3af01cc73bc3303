"""Conversations kept per user on the server, in SQLite under data_dir.

Each conversation has an id, a title (from its first message, shortened, and
renamable), when it was started and last written to, and its turns (the
message and the full answer record, so it reopens exactly as it was answered).
A user only ever lists, opens, renames or deletes their own conversations: every
query carries the owner. Conversations whose last message is older than the
retention period (ASSISTANT_CONVERSATION_RETENTION_DAYS) are deleted whenever the
store is opened and on every save. Deletion is real: the rows are deleted with
SQLite's secure_delete on (freed pages are overwritten with zeros), so the text
is gone from the file, not just unlinked.

With ASSISTANT_DATABASE_URL set, `SqlConversationStore` keeps the same rows in the
shared PostgreSQL database instead (`open_conversations` picks); see its notice for
what deletion means there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update

from assistant.answer import Answer, Turn
from assistant.app.stores import RetainedRows, database_url
from assistant.errors import AssistantError
from assistant.storage import schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations(owner, updated_at);
CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations(updated_at);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
"""
TITLE_CHARS = 60
MAX_TITLE_CHARS = 100


@dataclass(frozen=True)
class Summary:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    turns: int


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    turns: list[Turn]


def title_for(message: str, limit: int = TITLE_CHARS) -> str:
    """The first message on one line, cut at a word boundary with an ellipsis if it is long."""
    text = re.sub(r"\s+", " ", message).strip()
    if not text:
        return "Konversation"
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-") + "…"


def _stamp(now: datetime) -> str:
    return now.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _private_file(path: Path) -> None:
    """Create the file readable by the server's user only (before SQLite opens it), and keep it so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def _clean_title(title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip()
    if not title:
        raise AssistantError("Namnet får inte vara tomt.")
    if len(title) > MAX_TITLE_CHARS:
        raise AssistantError(f"Namnet får vara högst {MAX_TITLE_CHARS} tecken (det har {len(title)}).")
    return title


class ConversationStore:
    """Thread-safe (one connection behind a lock): a Streamlit server shares one store across sessions."""

    def __init__(self, path: Path, retention_days: int) -> None:
        if retention_days <= 0:
            raise ValueError(f"retention_days must be > 0, got {retention_days}")
        _private_file(path)
        self.path = path
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.executescript(SCHEMA)
        self.purge()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, owner: str, conversation_id: str | None, turns: Sequence[Turn],
             now: datetime | None = None) -> str:
        """Store the turns not yet stored; returns the conversation's id (a new one if it is not the owner's).

        Saving the whole list each time heals a conversation that was deleted in another tab meanwhile:
        it is stored again under a new id rather than lost.
        """
        if not turns:
            raise ValueError("a conversation is saved after its first answer")
        stamp = _stamp(_now(now))
        self.purge(now)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = None
            if conversation_id:
                row = self._db.execute("SELECT id FROM conversations WHERE id = ? AND owner = ?",
                                       (conversation_id, owner)).fetchone()
            if row is None:
                conversation_id = secrets.token_urlsafe(12)
                self._db.execute(
                    "INSERT INTO conversations(id, owner, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    (conversation_id, owner, title_for(turns[0].message), stamp, stamp))
            stored = self._db.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?",
                                      (conversation_id,)).fetchone()[0]
            new = list(enumerate(turns))[stored:]
            self._db.executemany(
                "INSERT INTO turns(conversation_id, position, created_at, message, answer) VALUES (?, ?, ?, ?, ?)",
                [(conversation_id, i, stamp, t.message, json.dumps(t.answer.to_record(), ensure_ascii=False))
                 for i, t in new])
            if new:
                self._db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (stamp, conversation_id))
        return conversation_id

    def list(self, owner: str) -> list[Summary]:
        """The owner's conversations, the most recently written first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.created_at, c.updated_at, COUNT(t.position) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation_id = c.id WHERE c.owner = ? "
                "GROUP BY c.id ORDER BY c.updated_at DESC, c.rowid DESC", (owner,)).fetchall()
        return [Summary(r[0], r[1], _time(r[2]), _time(r[3]), r[4]) for r in rows]

    def open(self, owner: str, conversation_id: str) -> Conversation | None:
        """The conversation with its turns, or None if it does not exist or is someone else's."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ? AND owner = ?",
                (conversation_id, owner)).fetchone()
            if row is None:
                return None
            turns = self._db.execute(
                "SELECT message, answer FROM turns WHERE conversation_id = ? ORDER BY position",
                (conversation_id,)).fetchall()
        return Conversation(row[0], row[1], _time(row[2]), _time(row[3]),
                            [Turn(m, Answer.from_record(json.loads(a))) for m, a in turns])

    def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        title = _clean_title(title)
        with self._lock:
            cur = self._db.execute("UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                                   (title, conversation_id, owner))
        return cur.rowcount == 1

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete the conversation and its turns for good; False if there was none of the owner's."""
        with self._lock:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("DELETE FROM turns WHERE conversation_id IN "
                                 "(SELECT id FROM conversations WHERE id = ? AND owner = ?)", (conversation_id, owner))
                cur = self._db.execute("DELETE FROM conversations WHERE id = ? AND owner = ?",
                                       (conversation_id, owner))
            deleted = cur.rowcount == 1
            if deleted:
                self._db.execute("VACUUM")  # rewrites the file without the freed pages (secure_delete zeroed them)
        return deleted

    def purge(self, now: datetime | None = None) -> int:
        """Delete conversations last written to before the retention period; returns how many."""
        cutoff = _stamp(_now(now) - timedelta(days=self.retention_days))
        with self._lock:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                old = [r[0] for r in self._db.execute("SELECT id FROM conversations WHERE updated_at < ?",
                                                      (cutoff,)).fetchall()]
                for conversation_id in old:
                    self._db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
                    self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if old:
                self._db.execute("VACUUM")
        return len(old)

    def notice(self) -> str:
        """What is kept and for how long, in Swedish, for the app to show."""
        return (f"Konversationer sparas i {self.retention_days} dagar efter det senaste meddelandet och raderas "
                f"sedan automatiskt. De sparas på servern hos er organisation och kan vara allmänna handlingar. "
                f"Bara du ser dina konversationer; tar du bort en är den borta för gott.")


class SqlConversationStore(RetainedRows):
    """The same store in the database of ASSISTANT_DATABASE_URL, shared by every app server (thread-safe through
    the engine's connection pool). Every query carries the owner, as in ConversationStore.

    PostgreSQL has no secure_delete: a DELETE leaves the old row versions in the table's files until autovacuum
    marks the space free and later writes reuse it (VACUUM FULL would rewrite the table, but it locks it and is
    too heavy for every deletion). So a deleted conversation is gone for every query at once, but its text may
    stay on the database server's disk (and in its backups) for a while; `notice` says so.
    """

    def save(self, owner: str, conversation_id: str | None, turns: Sequence[Turn],
             now: datetime | None = None) -> str:
        """Store the turns not yet stored; returns the conversation's id (a new one if it is not the owner's).

        As in ConversationStore, a conversation deleted meanwhile is stored again under a new id. The row is
        locked (SELECT … FOR UPDATE) while its turns are counted and added, so two saves of one conversation,
        also from two servers, do not write the same position twice.
        """
        if not turns:
            raise ValueError("a conversation is saved after its first answer")
        c, t = schema.conversations, schema.turns
        stamp = _stamp(_now(now))
        self.purge(now)
        with self._conn() as conn:
            found = None
            if conversation_id:
                found = conn.execute(select(c.c.id).where(c.c.id == conversation_id, c.c.owner == owner)
                                     .with_for_update()).scalar()
            if found is None:
                conversation_id = secrets.token_urlsafe(12)
                conn.execute(insert(c).values(id=conversation_id, owner=owner, title=title_for(turns[0].message),
                                              created_at=stamp, updated_at=stamp))
            stored = conn.execute(select(func.count()).select_from(t).where(t.c.conversation_id == conversation_id)
                                  ).scalar_one()
            new = list(enumerate(turns))[stored:]
            if new:
                conn.execute(insert(t), [
                    {"conversation_id": conversation_id, "position": i, "created_at": stamp, "message": turn.message,
                     "answer": json.dumps(turn.answer.to_record(), ensure_ascii=False)} for i, turn in new])
                conn.execute(update(c).where(c.c.id == conversation_id).values(updated_at=stamp))
        return conversation_id

    def list(self, owner: str) -> list[Summary]:
        """The owner's conversations, the most recently written first (then the most recently created)."""
        c, t = schema.conversations, schema.turns
        query = (select(c.c.id, c.c.title, c.c.created_at, c.c.updated_at, func.count(t.c.position))
                 .select_from(c.outerjoin(t, t.c.conversation_id == c.c.id)).where(c.c.owner == owner)
                 .group_by(c.c.id).order_by(c.c.updated_at.desc(), c.c.seq.desc()))
        with self._conn() as conn:
            rows = conn.execute(query).all()
        return [Summary(r[0], r[1], _time(r[2]), _time(r[3]), r[4]) for r in rows]

    def open(self, owner: str, conversation_id: str) -> Conversation | None:
        """The conversation with its turns, or None if it does not exist or is someone else's."""
        c, t = schema.conversations, schema.turns
        with self._conn() as conn:
            row = conn.execute(select(c.c.id, c.c.title, c.c.created_at, c.c.updated_at)
                               .where(c.c.id == conversation_id, c.c.owner == owner)).first()
            if row is None:
                return None
            found = conn.execute(select(t.c.message, t.c.answer).where(t.c.conversation_id == conversation_id)
                                 .order_by(t.c.position)).all()
        return Conversation(row[0], row[1], _time(row[2]), _time(row[3]),
                            [Turn(m, Answer.from_record(json.loads(a))) for m, a in found])

    def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        title = _clean_title(title)
        c = schema.conversations
        with self._conn() as conn:
            done = conn.execute(update(c).where(c.c.id == conversation_id, c.c.owner == owner).values(title=title))
        return done.rowcount == 1

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete the conversation and its turns (ON DELETE CASCADE); False if there was none of the owner's.

        No VACUUM here: in PostgreSQL it does not zero the old row versions either, and autovacuum frees them.
        """
        c = schema.conversations
        with self._conn() as conn:
            done = conn.execute(delete(c).where(c.c.id == conversation_id, c.c.owner == owner))
        return done.rowcount == 1

    def purge(self, now: datetime | None = None) -> int:
        """Delete conversations last written to before the retention period; returns how many."""
        c = schema.conversations
        cutoff = _stamp(_now(now) - timedelta(days=self.retention_days))
        with self._conn() as conn:
            return conn.execute(delete(c).where(c.c.updated_at < cutoff)).rowcount

    def notice(self) -> str:
        """What is kept and for how long, in Swedish, for the app to show."""
        return (f"Konversationer sparas i {self.retention_days} dagar efter det senaste meddelandet och raderas "
                f"sedan automatiskt. De sparas i er organisations databas, som appens servrar delar, och kan vara "
                f"allmänna handlingar. Bara du ser dina konversationer. Tar du bort en försvinner den direkt ur "
                f"appen, men texten kan ligga kvar i databasens filer och säkerhetskopior tills utrymmet "
                f"återanvänds.")


def open_conversations(settings) -> ConversationStore | SqlConversationStore:  # noqa: ANN001 - a Settings
    """The conversation store the settings name: the shared database if ASSISTANT_DATABASE_URL is set, else
    data_dir/conversations.sqlite3."""
    url = database_url(settings)
    if url is not None:
        return SqlConversationStore(url, settings.conversation_retention_days)
    return ConversationStore(settings.conversations_path, settings.conversation_retention_days)
