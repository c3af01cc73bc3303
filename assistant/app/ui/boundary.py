"""The app's one error boundary: an exception becomes a Swedish message, the traceback goes to the log.

app.py runs sign-in and every page inside `guard`; Bibliotek also uses `report`
per uploaded file, so one bad file does not stop the others. Streamlit's own
error details are off (`client.showErrorDetails = "none"` in .streamlit/config.toml);
a developer who starts the app with `--client.showErrorDetails full` also gets
the traceback on the page.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator

import streamlit as st
from streamlit import config

from assistant.errors import AssistantError

log = logging.getLogger(__name__)


def unexpected(ref: str) -> str:
    return (f"Något gick fel, och sidan kunde inte visas färdigt. Försök igen. Kommer felet tillbaka, kontakta den "
            f"som förvaltar Rätt frågor och uppge referensen {ref}.")


def report(exc: BaseException, where: str) -> str:
    """Log the traceback under a short reference the person can quote, and return the reference."""
    ref = secrets.token_hex(4)
    log.error("unexpected error %s in %s: %s", ref, where, type(exc).__name__, exc_info=exc)
    return ref


def details_shown() -> bool:
    return config.get_option("client.showErrorDetails") in ("full", "stacktrace", True, "true", "True")


@contextlib.contextmanager
def guard(where: str) -> Iterator[None]:
    """Everything inside either finishes or ends in a Swedish message; st.stop and st.rerun pass through
    (they are BaseException, not Exception)."""
    try:
        yield
    except AssistantError as exc:  # a person can fix it, and the message says how
        log.warning("%s: %s", where, exc)
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - this is the boundary
        st.error(unexpected(report(exc, where)))
        if details_shown():
            st.exception(exc)
