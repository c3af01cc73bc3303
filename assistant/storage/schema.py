"""The tables kept in PostgreSQL when ASSISTANT_DATABASE_URL is set (SQLAlchemy Core).

The same rows as the SQLite files under data_dir: the ledger (documents, chunks with their
lexical tokens, meta), a version number of the index that every app server polls, accounts,
feedback, conversations and sign-in sessions. Alembic creates and migrates them
(assistant/storage/migrations); this module is what the code queries.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Float, ForeignKey, Identity, Index, Integer, MetaData, SmallInteger, Table,
                        Text, text)

metadata = MetaData()

index_meta = Table(
    "index_meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# One row (id 1): raised by every committed change of the index, so other servers know to reload.
index_version = Table(
    "index_version", metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

documents = Table(
    "documents", metadata,
    Column("document_id", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("chunk_count", Integer, nullable=False),
    Column("ingested_at", Text, nullable=False),
    Column("ingested_by", Text, nullable=False),
    Column("metadata", Text, nullable=False, server_default=text("'{}'")),
)

chunks = Table(
    "chunks", metadata,
    Column("id", Text, primary_key=True),
    Column("document_id", Text, ForeignKey("documents.document_id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("page", Integer),
    Column("section", Text),
    Column("tokens", Text, nullable=False),  # JSON list: the lexical index is rebuilt from these
    Column("held_back", Text),
    Index("chunks_by_document", "document_id", "ordinal"),
)

app_meta = Table(
    "app_meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("password", Text, nullable=False),  # "scrypt$n$r$p$salt$hash", never a password
)

feedback = Table(
    "feedback", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("created_at", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("comment", Text, nullable=False, server_default=text("''")),
    Column("message", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Index("feedback_by_time", "created_at"),
)

conversations = Table(
    "conversations", metadata,
    Column("id", Text, primary_key=True),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),  # order of creation
    Column("owner", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("conversations_by_owner", "owner", "updated_at"),
    Index("conversations_by_time", "updated_at"),
)

turns = Table(
    "turns", metadata,
    Column("conversation_id", Text, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("answer", Text, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("id_hash", Text, primary_key=True),
    Column("user", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("sessions_by_expiry", "expires_at"),
)
