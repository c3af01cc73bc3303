"""The command line's error boundary: any exception becomes a Swedish message and an exit code ≠ 0.

The person sees one Swedish sentence on stderr; the traceback goes to the log
file (`data_dir/logs/fel.log`), never to stdout. Operating-system errors
("No such file or directory") are named in Swedish with the file they concern.
"""

from __future__ import annotations

import errno
import logging
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from assistant.errors import AssistantError

log = logging.getLogger(__name__)
UNEXPECTED_EXIT = 3

_OS_ERRORS_SV = {
    errno.ENOENT: "filen eller mappen finns inte",
    errno.EACCES: "behörighet saknas",
    errno.EPERM: "åtgärden är inte tillåten",
    errno.ENOSPC: "disken är full",
    errno.EDQUOT: "diskkvoten är slut",
    errno.EROFS: "filsystemet är skrivskyddat",
    errno.EISDIR: "det är en mapp, inte en fil",
    errno.ENOTDIR: "en del av sökvägen är inte en mapp",
    errno.ENAMETOOLONG: "filnamnet är för långt",
    errno.EEXIST: "filen finns redan",
    errno.EMFILE: "för många öppna filer",
    errno.EIO: "läs- eller skrivfel på disken",
    errno.ELOOP: "för många symboliska länkar",
    errno.ENOMEM: "minnet räcker inte",
    errno.EBUSY: "filen används av ett annat program",
    errno.ELOOP: "för många symboliska länkar i sökvägen",
    errno.EINVAL: "ogiltigt filnamn eller argument",
}


def os_error_what(exc: OSError) -> str:
    """What went wrong, in Swedish, for an operating-system error (never its English strerror)."""
    what = _OS_ERRORS_SV.get(exc.errno or -1)
    if what is None:
        what = "ett fel i operativsystemet" + (f" (felkod {errno.errorcode.get(exc.errno, exc.errno)})" if exc.errno else "")
    return what


def os_error_sv(exc: OSError, path: Path | str | None = None) -> str:
    """A Swedish sentence for an operating-system error, naming the file."""
    what = os_error_what(exc)
    name = exc.filename if exc.filename is not None else path
    return f"{name}: {what}." if name is not None else f"{what[0].upper()}{what[1:]}."


def error_log_path() -> Path | None:
    try:
        from assistant.settings import Settings

        return Settings().data_dir / "logs" / "fel.log"
    except Exception:  # noqa: BLE001 - broken settings are themselves the error being reported
        return None


def _write_traceback(exc: BaseException, program: str) -> Path | None:
    text = "".join(traceback.format_exception(exc))
    path = error_log_path()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(f"--- {datetime.now(timezone.utc).isoformat(timespec='seconds')} {program}\n{text}\n")
            return path
        except OSError:
            pass
    log.debug("unexpected error in %s:\n%s", program, text)
    return None


def message_for(exc: BaseException, program: str) -> str:
    """The Swedish message for the person; the traceback of an unexpected error is written to the log."""
    if isinstance(exc, AssistantError):
        return f"Fel: {exc}"
    settings_problem = _settings_error(exc)
    if settings_problem is not None:
        return settings_problem
    if isinstance(exc, OSError):
        where = _write_traceback(exc, program)
        return f"Fel: {os_error_sv(exc)}" + (f" Detaljer finns i {where}." if where else "")
    if isinstance(exc, UnicodeError):
        where = _write_traceback(exc, program)
        return ("Fel: texten innehåller tecken som inte kan kodas (till exempel ett ensamt surrogattecken)."
                + (f" Detaljer finns i {where}." if where else ""))
    where = _write_traceback(exc, program)
    return (f"Ett oväntat fel inträffade ({type(exc).__name__})."
            + (f" Detaljer finns i {where}." if where else " Kör igen med loggning för detaljer."))


def guarded(main: Callable[[], int], program: str) -> int:
    """Run `main`; any exception becomes a Swedish line on stderr and an exit code ≠ 0."""
    try:
        return int(main() or 0)
    except KeyboardInterrupt:
        print("Avbrutet.", file=sys.stderr)
        return 130
    except SystemExit:
        raise  # argparse's own exits (--help, usage errors) keep their codes
    except AssistantError as exc:
        print(message_for(exc, program), file=sys.stderr)
        return 2
    except BaseException as exc:  # noqa: BLE001 - the boundary
        print(message_for(exc, program), file=sys.stderr)
        return UNEXPECTED_EXIT


def _settings_error(exc: BaseException) -> str | None:
    """A pydantic validation error of Settings, named by its environment variable."""
    try:
        from pydantic import ValidationError
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(exc, ValidationError) or exc.title != "Settings":
        return None
    names = ", ".join("ASSISTANT_" + str(e["loc"][0]).upper() for e in exc.errors() if e.get("loc"))
    return f"Fel i inställningarna: {names} har ett ogiltigt värde. Se tabellen över inställningar i README."
