"""Parse files in a worker process that can be stopped: a hostile file costs at most its limits.

`load_limited(path, settings)` reads a file with every limit from the settings
(`Limits`) and, by default (`parse_in_worker`), in a separate worker process:

- the worker is started with `python -m assistant.ingestion.parsing`, a fresh
  interpreter (no fork of a process that holds torch threads or open
  databases), and imports only the loaders;
- its address space is capped with RLIMIT_AS (`parse_memory_mb`), so a
  decompression bomb fails in the worker, not in the app;
- the parent waits at most `parse_timeout_seconds`, then kills the worker;
- a timeout, a crash or the memory limit becomes an `IngestError` in Swedish.

The worker is reused for the next file and replaced after it died, was killed,
or grew past half its memory limit. Requests and answers are pickled over two
pipes, so nothing a parser prints can corrupt them.
"""

from __future__ import annotations

import atexit
import logging
import os
import resource
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import IngestError
from assistant.ingestion.loaders import Limits, _too_large, load_file, os_error_sv
from assistant.types import Chunk, LoadedDocument

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
START_SECONDS = 60.0  # the first answer of a new worker may include its start-up


def limits_of(settings: Settings) -> Limits:
    return Limits.from_settings(settings)


def max_bytes_of(settings: Settings) -> int:
    return int(settings.max_file_mb * 1_000_000)


def load_limited(path: Path, settings: Settings, data: bytes | None = None, name: str | None = None) -> LoadedDocument:
    """Load one file under every limit of the settings; in the worker process unless `parse_in_worker` is off."""
    if not settings.parse_in_worker:
        return load_file(path, max_bytes_of(settings), data=data, name=name, limits=limits_of(settings))
    # The size limit before anything is sent to the worker (a too large upload is never copied).
    size = len(data) if data is not None else _size(path, name)
    if size > max_bytes_of(settings):
        raise IngestError(_too_large(size, max_bytes_of(settings)))
    worker = _worker(settings.parse_memory_mb * 1024 * 1024)
    return worker.parse(path, data, name, max_bytes_of(settings), limits_of(settings), settings.parse_timeout_seconds)


def _size(path: Path, name: str | None) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise IngestError(f"Filen {name or path.name} kunde inte läsas: {os_error_sv(exc)}.") from exc


def check_chunk_count(doc: LoadedDocument, chunks: list[Chunk] | int, settings: Settings, at_least: bool = False) -> None:
    """Refuse a document that gives more passages than `max_document_chunks` (before anything is embedded)."""
    count = chunks if isinstance(chunks, int) else len(chunks)
    if count > settings.max_document_chunks:
        raise IngestError(
            f"{Path(doc.source).name or doc.document_id} ger {'minst ' if at_least else ''}{count} textavsnitt; högst {settings.max_document_chunks} "
            "avsnitt per dokument är tillåtet (inställningen ASSISTANT_MAX_DOCUMENT_CHUNKS). Dela upp dokumentet "
            "eller minska antalet rubriker."
        )


def precheck_chunks(doc: LoadedDocument, settings: Settings) -> None:
    """A cheap lower bound before chunking: chunks never cross a heading or a page, so each group is one at least."""
    groups = 0
    last: object = None
    for section in doc.sections:
        key = (section.page, section.heading_path)
        if key != last:
            groups += 1
            last = key
    if groups > settings.max_document_chunks:
        check_chunk_count(doc, groups, settings, at_least=True)


def check_chunks(doc: LoadedDocument, settings: Settings, embedder: Any) -> None:
    """Refuse a document over `max_document_chunks`, counted exactly as the index will chunk it (no embedding)."""
    from assistant.ingestion.chunking import chunk_document

    precheck_chunks(doc, settings)
    max_tokens = min(settings.chunk_max_tokens, embedder.max_tokens - 2)
    check_chunk_count(doc, chunk_document(doc, max_tokens, embedder.count_tokens), settings)


class ParseWorker:
    """One worker process, used by one caller at a time (a lock serialises parses)."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self.peak_rss_bytes = 0  # the largest resident size a worker reported
        self.started = 0  # workers started so far (a restart follows a kill or a crash)
        self._proc: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._fresh = False
        self._lock = threading.Lock()

    def _start(self) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "assistant.ingestion.parsing", str(req_r), str(resp_w), str(self.memory_bytes)],
                pass_fds=(req_r, resp_w), env=env, stdin=subprocess.DEVNULL, cwd=str(PROJECT_ROOT), close_fds=True,
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self._send = Connection(req_w, readable=False)
        self._recv = Connection(resp_r, writable=False)
        self._fresh = True
        self.started += 1

    def modules(self) -> list[str]:
        """The modules the worker has imported (for tests: the loaders only, never torch)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.stop()
                self._start()
            assert self._send is not None and self._recv is not None
            self._send.send("modules")
            _, modules, _ = self._recv.recv()
            return modules

    def stop(self) -> None:
        """Stop the worker (it is started again on the next parse)."""
        proc, self._proc = self._proc, None
        for conn in (self._send, self._recv):
            if conn is not None:
                try:
                    conn.close()
                except OSError:
                    pass
        self._send = self._recv = None
        if proc is not None and proc.poll() is None:
            try:
                proc.wait(timeout=2)  # closing the request pipe ends it
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _kill(self) -> int | None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        code = proc.wait() if proc is not None else None
        self.stop()
        return code

    def parse(self, path: Path, data: bytes | None, name: str | None, max_bytes: int, limits: Limits,
              timeout: float) -> LoadedDocument:
        label = name or Path(path).name
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.stop()
                self._start()
            assert self._send is not None and self._recv is not None
            try:
                self._send.send((os.path.abspath(path), data, name, max_bytes, limits))
            except OSError:
                code = self._kill()
                raise IngestError(self._died(label, code)) from None
            wait = timeout + (START_SECONDS if self._fresh else 0.0)
            self._fresh = False
            if not self._recv.poll(wait):
                self._kill()
                raise IngestError(
                    f"Det tog mer än {timeout:g} sekunder att läsa {label}, så inläsningen avbröts "
                    "(inställningen ASSISTANT_PARSE_TIMEOUT_SECONDS). Filen kan vara skadad eller byggd för att "
                    "vara svårläst."
                )
            try:
                status, payload, rss = self._recv.recv()
            except (EOFError, OSError):
                code = self._kill()
                raise IngestError(self._died(label, code)) from None
            self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
            if rss > self.memory_bytes // 2:
                self.stop()  # a fresh worker for the next file: freed memory is not always returned
        if status == "ok":
            return payload
        if status == "refused":
            raise IngestError(payload)
        if status == "memory":
            self.stop()
            raise IngestError(self._memory(label))
        log.error("unexpected error parsing %s in the worker:\n%s", label, payload)
        raise IngestError(f"{label} kunde inte läsas på grund av ett oväntat fel i filen. Detaljer finns i loggen.")

    def _died(self, label: str, code: int | None) -> str:
        log.warning("the parse worker stopped (exit code %s) while reading %s", code, label)
        return self._memory(label)

    def _memory(self, label: str) -> str:
        return (
            f"{label} kunde inte läsas: tolkningen behövde mer än {self.memory_bytes // (1024 * 1024)} MB minne eller "
            "avbröts (inställningen ASSISTANT_PARSE_MEMORY_MB). Filen kan vara skadad eller byggd för att vara "
            "svårläst."
        )


_workers: dict[int, ParseWorker] = {}
_workers_lock = threading.Lock()


def _worker(memory_bytes: int) -> ParseWorker:
    with _workers_lock:
        worker = _workers.get(memory_bytes)
        if worker is None:
            worker = _workers[memory_bytes] = ParseWorker(memory_bytes)
        return worker


def workers() -> list[ParseWorker]:
    return list(_workers.values())


@atexit.register
def shutdown() -> None:
    """Stop every worker of this process."""
    for worker in workers():
        worker.stop()


# -- the worker side ---------------------------------------------------
def _rss_bytes() -> int:
    """The worker's peak resident size. VmHWM belongs to this address space; ru_maxrss would also count the
    parent's size at the fork before exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _serve(req_fd: int, resp_fd: int, memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    requests = Connection(req_fd, writable=False)
    answers = Connection(resp_fd, readable=False)
    while True:
        try:
            request: Any = requests.recv()
        except (EOFError, OSError):
            return
        if request == "modules":  # for tests: what the worker imported
            answers.send(("ok", sorted(sys.modules), _rss_bytes()))
            continue
        path, data, name, max_bytes, limits = request
        try:
            doc = load_file(Path(path), max_bytes, data=data, name=name, limits=limits)
            answer: tuple[str, Any] = ("ok", doc)
        except IngestError as exc:
            answer = ("refused", str(exc))
        except MemoryError:
            answer = ("memory", "")
        except Exception:  # noqa: BLE001 - the parent logs it and gives a Swedish reason
            answer = ("error", traceback.format_exc(limit=20))
        del data, request
        try:
            answers.send((*answer, _rss_bytes()))
        except MemoryError:
            answers.send(("memory", "", _rss_bytes()))


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
