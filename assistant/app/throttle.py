"""Throttling of failed sign-ins, per account and per client, kept in SQLite so a restart does not reset it.

After a number of free failures every further attempt must wait, twice as long
each time; after more failures the account or client is locked for a while, and
every failure after the lock ends locks it again. Failures are forgotten after a
quiet window, and an account's count is cleared when its password is given. A
blocked attempt is not checked at all, so it costs no hashing and counts nothing;
an allowed one counts as a failure from the start (in the same transaction as the
check) until its password proves right, so parallel sessions cannot skip a wait.

Keys are HMACs of the account name or client address with a secret kept in the
same file: the file never holds a typed name (which may be a mistyped password)
or an address in clear text, and an unknown name is throttled exactly like a
real one, so the lock message does not reveal which names exist.
"""

from __future__ import annotations

import hashlib
import os
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings


@dataclass(frozen=True)
class Policy:
    free_failures: int
    lock_failures: int
    delay_seconds: float
    lock_seconds: float
    window_seconds: float

    def wait_after(self, failures: int) -> tuple[float, bool]:
        """Seconds to wait after this many failures in a row, and whether that wait is a lock."""
        if failures >= self.lock_failures:
            return self.lock_seconds, True
        if failures <= self.free_failures:
            return 0.0, False
        return min(self.delay_seconds * 2 ** (failures - self.free_failures - 1), self.lock_seconds), False


@dataclass(frozen=True)
class Record:
    failures: int
    last_failure: float
    not_before: float
    locked: bool


@dataclass(frozen=True)
class Claim:
    """`before`: whether the attempt may be checked; `failures`: per key, counting this attempt if it was
    allowed; `after`: the verdict for the next attempt if this one fails."""

    before: Verdict
    failures: list[int]
    after: Verdict | None = None

    @property
    def allowed(self) -> bool:
        return self.before.allowed


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may be checked now; if not, from when, and whether it is a lock."""

    allowed: bool
    retry_at: float = 0.0
    locked: bool = False

    def message(self, now: float | None = None) -> str:
        """Swedish, the same whether the name exists or not."""
        now = time.time() if now is None else now
        if self.locked:
            minutes = max(1, round((self.retry_at - now) / 60))
            clock = time.strftime("%H:%M", time.localtime(self.retry_at))
            return (f"Inloggningen är spärrad efter för många misslyckade försök för det här kontot eller från den "
                    f"här datorn. Försök igen kl. {clock} (om {minutes} min).")
        seconds = max(1, int(self.retry_at - now + 0.999))
        return f"För många misslyckade inloggningar i rad. Vänta {seconds} s och försök igen."


def policies(settings: Settings) -> tuple[Policy, Policy]:
    """(per account, per client)"""
    lock, window = settings.signin_lock_minutes * 60, settings.signin_window_minutes * 60
    account = Policy(settings.signin_free_failures, settings.signin_lock_failures, settings.signin_delay_seconds,
                     lock, window)
    client = Policy(settings.signin_client_free_failures, settings.signin_client_lock_failures,
                    settings.signin_delay_seconds, lock, window)
    return account, client


class SignInThrottle:
    def __init__(self, path: Path, account: Policy, client: Policy) -> None:
        self.path = path
        self._policy = {"a": account, "c": client}
        self._key: bytes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInThrottle:
        return cls(settings.signin_throttle_path, *policies(settings))

    def account_key(self, name: str) -> str:
        return "a:" + self._digest(name.strip().casefold())

    def client_key(self, client: str) -> str:
        return "c:" + self._digest(client)

    def check(self, keys: list[str], now: float | None = None) -> Verdict:
        now = time.time() if now is None else now
        with self._connect() as db:
            records = [self._load(db, key, now) for key in keys]
        return _verdict([r for r in records if r is not None], now)

    def claim(self, keys: list[str], now: float | None = None) -> Claim:
        """Ask to check one attempt. If allowed, it is counted as a failure at once (in the same transaction
        as the check), so attempts made in parallel from many sessions cannot slip past the delay; a right
        password then takes it back with `succeeded`."""
        now = time.time() if now is None else now
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            old = [self._load(db, key, now) for key in keys]
            before = _verdict([r for r in old if r is not None], now)
            if not before.allowed:
                return Claim(before, [r.failures if r else 0 for r in old])
            records = []
            for key, record in zip(keys, old, strict=True):
                failures = (record.failures if record else 0) + 1
                wait, locked = self._policy[key[0]].wait_after(failures)
                records.append(Record(failures, now, now + wait, locked))
                db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?)",
                           (key, failures, now, now + wait, int(locked)))
        return Claim(before, [r.failures for r in records], _verdict(records, now))

    def succeeded(self, account_key: str, client_key: str) -> None:
        """The password was right: the account starts afresh; the client gets back the failure its claim
        counted, but keeps the others (one valid account must not unlock guessing at all the rest)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM failures WHERE key = ?", (account_key,))
            db.execute("UPDATE failures SET failures = failures - 1 WHERE key = ?", (client_key,))
            db.execute("DELETE FROM failures WHERE key = ? AND failures <= 0", (client_key,))

    def record(self, key: str, now: float | None = None) -> Record | None:
        now = time.time() if now is None else now
        with self._connect() as db:
            return self._load(db, key, now)

    def _load(self, db: sqlite3.Connection, key: str, now: float) -> Record | None:
        row = db.execute("SELECT failures, last_failure, not_before, locked FROM failures WHERE key = ?",
                         (key,)).fetchone()
        if row is None:
            return None
        record = Record(row[0], row[1], row[2], bool(row[3]))
        if now - record.last_failure > self._policy[key[0]].window_seconds and now >= record.not_before:
            db.execute("DELETE FROM failures WHERE key = ?", (key,))
            return None
        return record

    def _digest(self, text: str) -> str:
        return hmac.new(self._secret(), text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]

    def _secret(self) -> bytes:
        if self._key is None:
            with self._connect() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_hex(32),))
                self._key = bytes.fromhex(db.execute("SELECT value FROM meta WHERE name = 'secret'").fetchone()[0])
        return self._key

    def _connect(self) -> _Closing:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists()
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            if new:
                os.chmod(self.path, 0o600)  # it holds the key of the hashed names
            db.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, failures INTEGER, "
                       "last_failure REAL, not_before REAL, locked INTEGER)")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        except (sqlite3.Error, OSError) as exc:
            raise AssistantError(
                f"Spärren för misslyckade inloggningar i {self.path} går inte att läsa ({exc}), så ingen kan logga "
                f"in just nu. Kontrollera att katalogen är skrivbar; är filen skadad kan den tas bort."
            ) from exc
        return _Closing(db)


class _Closing:
    """sqlite3's own context manager commits but does not close; this one does both."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, kind, value, tb) -> None:  # noqa: ANN001
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self.db.close()


def _verdict(records: list[Record], now: float) -> Verdict:
    blocking = [r for r in records if r.not_before > now]
    if not blocking:
        return Verdict(True)
    latest = max(blocking, key=lambda r: r.not_before)
    return Verdict(False, latest.not_before, any(r.locked for r in blocking))
