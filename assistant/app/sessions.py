"""Sign-ins that survive a reload in accounts mode: a signed, expiring session token kept in a cookie.

The token is `<session id>.<expires (unix seconds)>.<HMAC-SHA256>`; the key is
generated once in data_dir (session.key, mode 600). A token counts only while the
server still has its session (SQLite, only the SHA-256 of the id is stored), so
signing out ends it everywhere: a copied cookie stops working. Whoever the token
names is looked up in the accounts file on every page load, so a removed account
is refused and a changed role applies at once. No Streamlit here.
OIDC uses Streamlit's own st.login session; development mode needs none.

With ASSISTANT_DATABASE_URL set, `SqlSessionStore` keeps the sessions and the key
(app_meta 'session_key') in that database, shared by every app server
(`session_store_for` picks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from assistant.app.auth import User
from assistant.app.stores import database_url
from assistant.app.users import Account
from assistant.errors import AssistantError
from assistant.storage import database, schema

COOKIE = "rf_session"
KEY_BYTES = 32
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires_at);
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_key(path: Path) -> bytes:
    """The signing key, created on first use with mode 600; AssistantError (Swedish) if it is unusable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise AssistantError(f"Sessionsnyckeln {path} går inte att läsa ({exc.strerror or exc}).") from None
    if len(key) < KEY_BYTES:
        raise AssistantError(f"Sessionsnyckeln {path} är för kort ({len(key)} byte, minst {KEY_BYTES}). "
                             f"Ta bort filen så skapas en ny (alla får då logga in igen).")
    return key


class SessionStore:
    def __init__(self, path: Path, key: bytes, hours: float) -> None:
        if hours <= 0:
            raise ValueError(f"hours must be > 0, got {hours}")
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self.path = path
        self.hours = hours
        self._key = key
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)

    @classmethod
    def from_settings(cls, settings) -> SessionStore:  # noqa: ANN001 - a Settings
        return cls(settings.sessions_path, load_key(settings.session_key_path), settings.session_hours)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    @staticmethod
    def _id_hash(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("ascii")).hexdigest()

    def issue(self, user: str, now: float | None = None) -> str:
        """A new session for the user; returns the token for the cookie."""
        now = time.time() if now is None else now
        expires = int(now + self.hours * 3600)
        session_id = secrets.token_urlsafe(32)
        self._insert(self._id_hash(session_id), user, now, expires)
        payload = f"{session_id}.{expires}"
        return f"{payload}.{self._mac(payload)}"

    # Where the sessions are kept: these three (and revoke_user) are all a store of another kind replaces.
    def _insert(self, id_hash: str, user: str, now: float, expires: int) -> None:
        """Keep a new session, dropping the expired ones."""
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            self._db.execute("INSERT INTO sessions(id_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)",
                             (id_hash, user, now, expires))

    def _lookup(self, id_hash: str) -> tuple[str, float] | None:
        """(user, expires_at) of a kept session."""
        with self._lock:
            return self._db.execute("SELECT user, expires_at FROM sessions WHERE id_hash = ?", (id_hash,)).fetchone()

    def _forget(self, id_hash: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    def _signed(self, token: str | None, now: float) -> tuple[str, int] | None:
        """(session id, expires) of a well-formed token with a valid signature that has not expired, else None."""
        if not token or len(token) > 256:
            return None
        try:
            session_id, expires_text, mac = token.split(".")
            expires = int(expires_text)
            payload = f"{session_id}.{expires_text}"
            payload.encode("ascii")
        except (ValueError, UnicodeEncodeError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload)) or expires <= now:
            return None
        return session_id, expires

    def resolve(self, token: str | None, now: float | None = None) -> str | None:
        """The user name of a valid, unexpired, not signed-out token; None for anything else."""
        now = time.time() if now is None else now
        signed = self._signed(token, now)
        if signed is None:
            return None
        session_id, expires = signed
        row = self._lookup(self._id_hash(session_id))
        if row is None or row[1] <= now or row[1] != expires:
            return None
        return row[0]

    def revoke(self, token: str | None) -> None:
        """End the session of this token on the server (sign-out); unknown or malformed tokens are ignored."""
        if not token:
            return
        session_id = token.split(".", 1)[0]
        try:
            id_hash = self._id_hash(session_id)
        except UnicodeEncodeError:
            return
        self._forget(id_hash)

    def revoke_user(self, user: str) -> int:
        """End every session of a user (e.g. the account was removed); returns how many."""
        with self._lock:
            return self._db.execute("DELETE FROM sessions WHERE user = ?", (user,)).rowcount


SESSION_KEY = "session_key"  # app_meta key: the signing key (hex) every app server shares


def shared_key(url: str) -> bytes:
    """The signing key kept in the database (created once, by whichever server comes first), so a token issued
    by one app server is valid on all of them."""
    meta = schema.app_meta
    engine = database.engine_for(url)
    with database.connection(engine, url) as conn:
        conn.execute(pg_insert(meta).values(key=SESSION_KEY, value=secrets.token_bytes(KEY_BYTES).hex())
                     .on_conflict_do_nothing(index_elements=[meta.c.key]))
        value = conn.execute(select(meta.c.value).where(meta.c.key == SESSION_KEY)).scalar_one()
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise AssistantError(
            f"Sessionsnyckeln i databasen {database.shown(url)} (tabellen app_meta, nyckeln '{SESSION_KEY}') är "
            f"ogiltig: den ska vara minst {KEY_BYTES} byte som hex. Ta bort raden så skapas en ny (alla får då "
            f"logga in igen).")
    return key


class SqlSessionStore(SessionStore):
    """Sessions in the database of ASSISTANT_DATABASE_URL, with the signing key from the same database: a sign-in
    on one app server is valid on every other, and signing out on one ends it on all. Thread-safe through the
    engine's connection pool."""

    def __init__(self, url: str, key: bytes, hours: float) -> None:  # noqa: D107 - no SQLite file here
        if hours <= 0:
            raise ValueError(f"hours must be > 0, got {hours}")
        self.url = url
        self.path = f"databasen {database.shown(url)}"  # where the sessions are, for messages
        self.hours = hours
        self._key = key
        self._engine = database.engine_for(url)

    @classmethod
    def from_settings(cls, settings) -> SqlSessionStore:  # noqa: ANN001 - a Settings
        url = database_url(settings)
        if url is None:
            raise ValueError("SqlSessionStore needs ASSISTANT_DATABASE_URL")
        return cls(url, shared_key(url), settings.session_hours)

    def _conn(self):  # noqa: ANN202 - a context manager giving a Connection in a transaction
        return database.connection(self._engine, self.url)

    def close(self) -> None:
        """Nothing to close: the engine (one per process) is shared by the stores."""

    def _insert(self, id_hash: str, user: str, now: float, expires: int) -> None:
        t = schema.sessions
        with self._conn() as conn:
            conn.execute(delete(t).where(t.c.expires_at <= now))
            conn.execute(insert(t).values(id_hash=id_hash, user=user, created_at=now, expires_at=expires))

    def _lookup(self, id_hash: str) -> tuple[str, float] | None:
        t = schema.sessions
        with self._conn() as conn:
            return conn.execute(select(t.c.user, t.c.expires_at).where(t.c.id_hash == id_hash)).first()

    def _forget(self, id_hash: str) -> None:
        t = schema.sessions
        with self._conn() as conn:
            conn.execute(delete(t).where(t.c.id_hash == id_hash))

    def revoke_user(self, user: str) -> int:
        """End every session of a user (e.g. the account was removed); returns how many."""
        t = schema.sessions
        with self._conn() as conn:
            return conn.execute(delete(t).where(t.c.user == user)).rowcount


def session_store_for(settings) -> SessionStore:  # noqa: ANN001 - a Settings
    """The sessions the settings name: the shared database (and its key) if ASSISTANT_DATABASE_URL is set, else
    data_dir/sessions.sqlite3 with the key in data_dir/session.key."""
    if database_url(settings) is not None:
        return SqlSessionStore.from_settings(settings)
    return SessionStore.from_settings(settings)


def restore(store: SessionStore, token: str | None, accounts: list[Account]) -> User | None:
    """The user a session cookie stands for, with the role the accounts file gives now.

    A token for an account that no longer exists is refused, and its session ended.
    """
    name = store.resolve(token)
    if name is None:
        return None
    account = next((a for a in accounts if a.name == name), None)
    if account is None:
        store.revoke(token)
        return None
    return User(account.name, account.role, "accounts")


def cookie_script(token: str | None, hours: float) -> str:
    """JavaScript (for a components.html frame) that sets the session cookie on the app's page, or clears it.

    SameSite=Strict, path=/, Secure when the page is served over https. (A cookie set from script cannot be
    HttpOnly; the token is worthless without the server's session, which sign-out deletes.)
    """
    if token is None:
        value, age = "", 0
    else:
        if not all(c.isalnum() or c in "-_." for c in token):
            raise ValueError("a session token is URL-safe base64 and dots")
        value, age = token, int(hours * 3600)
    return (
        "<script>(function(){var w=window.parent;"
        "var secure=w.location.protocol==='https:'?'; Secure':'';"
        f"w.document.cookie='{COOKIE}={value}; Max-Age={age}; Path=/; SameSite=Strict'+secure;"
        "})();</script>"
    )
