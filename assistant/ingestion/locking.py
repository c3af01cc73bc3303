"""One writer at a time across processes: a file lock in the data directory.

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
        self.fd: int | None = None


_locks: dict[str, _ProcessLock] = {}
_locks_guard = threading.Lock()


def _process_lock(path: Path) -> _ProcessLock:
    key = os.path.realpath(path)
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

    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        state = _process_lock(self.path)
        return state.depth > 0 and state.thread_lock._is_owned()  # type: ignore[attr-defined]

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Hold the lock; yields True when this is the outermost hold (the caller should refresh caches)."""
        state = _process_lock(self.path)
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
                state.fd = fd
                try:
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                except OSError:  # the pid is only a hint for people; the lock itself is what matters
                    pass
            state.depth += 1
            try:
                yield outermost
            finally:
                state.depth -= 1
                if state.depth == 0 and state.fd is not None:
                    fd, state.fd = state.fd, None
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
        finally:
            state.thread_lock.release()

    def _announce(self) -> None:
        message = WAITING.format(timeout=_duration(self.timeout))
        log.info("waiting for the write lock %s", self.path)
        if self.on_wait is not None:
            self.on_wait(message)

    def _timeout_error(self) -> WriteLockTimeout:
        return WriteLockTimeout(
            f"Ett annat program har skrivit till indexet i mer än {_duration(self.timeout)} (låsfilen {self.path}). "
            "Försök igen när det är klart, eller höj ASSISTANT_WRITE_LOCK_TIMEOUT_SECONDS."
        )
