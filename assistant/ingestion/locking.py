"""One writer at a time across processes: a file lock in the data directory (or, with a shared database, an
advisory lock in PostgreSQL: DatabaseWriteLock).

Every write to the index (ingest, remove, rebuild, metadata, the consistency
repair) holds `data_dir/.write.lock` with `fcntl.flock`. The lock is re-entrant
within a process: a thread that holds it may take it again, and other threads of
the same process wait for it like another process would. Readers never take it.

The lock is released by the kernel when its holder dies (even after `kill -9`),
so a crashed writer never leaves the index locked.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import AssistantError

log = logging.getLogger(__name__)
WAITING = "Ett annat program skriver till indexet – väntar på att det blir klart (högst {timeout}) …"
POLL_SECONDS = 0.05


class WriteLockTimeout(AssistantError):
    """Another writer held the index longer than the timeout."""


class _ProcessLock:
    """The state of one lock file in this process: a thread lock, how deep it is held, and the open file."""

    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.handle: object | None = None  # the file descriptor or database connection that holds the lock


_locks: dict[str, _ProcessLock] = {}
_locks_guard = threading.Lock()


def _process_lock(key: str) -> _ProcessLock:
    with _locks_guard:
        return _locks.setdefault(key, _ProcessLock())


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} minuter"
    return f"{seconds:g} s"


class WriteLock:
    """`with lock.hold(): ...` around a write. Waits up to `timeout` seconds, then raises WriteLockTimeout."""

    def __init__(self, path: Path, timeout: float, on_wait: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self.on_wait = on_wait

    def with_timeout(self, timeout: float) -> WriteLock:
        """The same lock, waiting at most `timeout` seconds."""
        return WriteLock(self.path, timeout, self.on_wait)

    def _key(self) -> str:
        return os.path.realpath(self.path)

    def _where(self) -> str:
        return f"låsfilen {self.path}"

    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        state = _process_lock(self._key())
        return state.depth > 0 and state.thread_lock._is_owned()  # type: ignore[attr-defined]

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Hold the lock; yields True when this is the outermost hold (the caller should refresh caches)."""
        state = _process_lock(self._key())
        deadline = time.monotonic() + self.timeout
        announced = False
        if not state.thread_lock.acquire(blocking=False):
            self._announce()
            announced = True
            if not state.thread_lock.acquire(timeout=max(self.timeout, 0.0)):
                raise self._timeout_error()
        try:
            outermost = state.depth == 0
            if outermost:
                state.handle = self._acquire(deadline, announced)
            state.depth += 1
            try:
                yield outermost
            finally:
                state.depth -= 1
                if state.depth == 0 and state.handle is not None:
                    handle, state.handle = state.handle, None
                    self._release(handle)
        finally:
            state.thread_lock.release()

    def _acquire(self, deadline: float, announced: bool) -> object:
        """Take the lock between processes (this thread holds the process's own lock); returns what `_release`
        needs."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not announced:
                        self._announce()
                        announced = True
                    if time.monotonic() >= deadline:
                        raise self._timeout_error() from None
                    time.sleep(POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except OSError:  # the pid is only a hint for people; the lock itself is what matters
            pass
        return fd

    def _release(self, handle: object) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)

    def _announce(self) -> None:
        message = WAITING.format(timeout=_duration(self.timeout))
        log.info("waiting for the write lock (%s)", self._where())
        if self.on_wait is not None:
            self.on_wait(message)

    def _timeout_error(self) -> WriteLockTimeout:
        return WriteLockTimeout(
            f"Ett annat program har skrivit till indexet i mer än {_duration(self.timeout)} ({self._where()}). "
            "Försök igen när det är klart, eller höj ASSISTANT_WRITE_LOCK_TIMEOUT_SECONDS."
        )


class DatabaseWriteLock(WriteLock):
    """The write lock of several app servers sharing one PostgreSQL database (ASSISTANT_DATABASE_URL): a
    session-level advisory lock held on one pooled connection for the length of the write. PostgreSQL releases it
    when that connection ends, so a server that dies while writing never leaves the index locked."""

    def __init__(self, url: str, timeout: float, on_wait: Callable[[str], None] | None = None) -> None:
        from assistant.storage import database

        self.url = database.normalise(url)
        super().__init__(Path("/"), timeout, on_wait)

    def with_timeout(self, timeout: float) -> DatabaseWriteLock:
        return DatabaseWriteLock(self.url, timeout, self.on_wait)

    def _key(self) -> str:
        return "database:" + self.url

    def _where(self) -> str:
        from assistant.storage import database

        return f"låset i databasen {database.shown(self.url)}"

    def _acquire(self, deadline: float, announced: bool) -> object:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        from assistant.storage import database

        try:
            conn = database.engine_for(self.url).connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as exc:
            raise database.unavailable(self.url, exc) from None
        args = {"a": database.LOCK_SPACE, "b": database.WRITE_LOCK}
        try:
            while not conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), args).scalar():
                if not announced:
                    self._announce()
                    announced = True
                if time.monotonic() >= deadline:
                    raise self._timeout_error()
                time.sleep(POLL_SECONDS * 2)
        except DBAPIError as exc:
            conn.close()
            raise database.unavailable(self.url, exc) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _release(self, handle: object) -> None:
        from sqlalchemy import text

        from assistant.storage import database

        try:
            handle.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": database.LOCK_SPACE, "b": database.WRITE_LOCK})
        except Exception:  # noqa: BLE001 - a lost connection has released the lock already
            log.warning("could not release the database write lock; its connection is closed instead", exc_info=True)
            handle.invalidate()
        handle.close()


def write_lock_for(settings) -> WriteLock:  # noqa: ANN001 - a Settings
    """The index's write lock: a file in data_dir, or an advisory lock in the shared database."""
    if settings.database_url is not None:
        return DatabaseWriteLock(settings.database_url.get_secret_value(), settings.write_lock_timeout_seconds)
    return WriteLock(settings.data_dir / ".write.lock", settings.write_lock_timeout_seconds)
