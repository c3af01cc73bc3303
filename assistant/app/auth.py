"""Who may sign in, and with which role; no Streamlit here, so it is testable on its own.

Three modes: OIDC through Streamlit's st.login (production, e.g. Microsoft
Entra ID), a local accounts file, or a single-user development mode. Sign-in
fails closed: development mode only when it is asked for
(ASSISTANT_AUTH_MODE=none) or when nothing has ever been configured and the
server listens on loopback only. A missing, emptied or unreadable accounts file
on a server others can reach means nobody signs in, with a Swedish reason. The
role comes from configuration, never from the user, and is looked up again on
every page load.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assistant.app.users import ADD_HINT, Account, AccountsFileError, Role, account_store
from assistant.settings import Settings

log = logging.getLogger(__name__)
_logged: set[str] = set()
Mode = Literal["oidc", "accounts", "none"]
DEV_USER = "utvecklare"
OIDC_MISSING = (
    "Inloggning med OIDC är vald (ASSISTANT_AUTH_MODE=oidc), men avsnittet [auth] saknas i "
    ".streamlit/secrets.toml. Ingen kan logga in förrän det är ifyllt; se README, ”Inloggning och roller”."
)


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    mode: Mode
    subject: str = ""  # OIDC: the immutable object id (oid, else sub); the name there can change

    @property
    def is_strateg(self) -> bool:
        return self.role == "strateg"

    @property
    def owner(self) -> str:
        """Whose conversations these are: stable per person and sign-in mode."""
        return f"{self.mode}:{self.subject or self.name}"


@dataclass(frozen=True)
class Access:
    """How people sign in right now; `closed` is the Swedish reason when nobody can."""

    mode: Mode
    closed: str | None = None


def is_loopback(address: str | None) -> bool:
    """Whether a server bound to this address is reachable from this computer only.

    Unset (Streamlit's default) means every interface; a unix socket usually sits behind a proxy.
    """
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def access(settings: Settings, oidc_configured: bool, bind_address: str | None) -> Access:
    mode = settings.auth_mode
    if mode == "none":
        return Access("none")
    if mode == "oidc" or (mode == "auto" and oidc_configured):
        return Access("oidc") if oidc_configured else Access("oidc", OIDC_MISSING)
    store = account_store(settings)
    try:
        accounts = store.accounts()
    except AccountsFileError as exc:
        if str(exc) not in _logged:  # once per process and fault, not on every page load
            _logged.add(str(exc))
            log.error("sign-in refused: %s", exc, exc_info=exc)
        return Access("accounts", str(exc))
    if accounts:
        return Access("accounts")
    if mode == "accounts" or store.exists():
        return Access("accounts", f"Det finns inga konton i {store.path}, så ingen kan logga in. En administratör "
                                  f"lägger till ett konto på servern med `{ADD_HINT}`.")
    if is_loopback(bind_address):
        return Access("none")
    where = f"adressen {bind_address}" if bind_address else "alla nätverksgränssnitt"
    return Access("accounts", (
        f"Inga konton är skapade, och servern lyssnar på {where}, inte bara på den här datorn. Utvecklingsläget "
        f"utan inloggning startar därför inte. Lägg till ett konto med `{ADD_HINT}`, konfigurera OIDC, eller "
        f"starta appen på 127.0.0.1 (`make run`)."
    ))


def account_user(user: User | None, accounts: list[Account]) -> User | None:
    """The session's user as the accounts file has it now: None if removed, the new role if changed."""
    if user is None or user.mode != "accounts":
        return None
    account = next((a for a in accounts if a.name == user.name), None)
    return None if account is None else User(account.name, account.role, "accounts")


def _listed(value: str | None) -> set[str]:
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


def role_for_claims(settings: Settings, claims: Mapping[str, Any]) -> Role:
    """strateg if the immutable object id is listed or the group claim holds a strateg group; else chef.

    Never from e-mail or preferred_username: Entra ID lets users and admins change those.
    """
    oid = str(claims.get("oid") or "").strip().lower()
    if oid and oid in _listed(settings.strateg_oids):
        return "strateg"
    groups = claims.get(settings.group_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list | tuple):
        return "chef"
    held = {str(g).strip().lower() for g in groups}
    return "strateg" if held & _listed(settings.strateg_group) else "chef"


def groups_overage(claims: Mapping[str, Any]) -> bool:
    """Entra ID leaves out the groups claim when a user is in too many groups (then they stay chef)."""
    names = claims.get("_claim_names")
    return bool(claims.get("hasgroups")) or (isinstance(names, Mapping) and "groups" in names)


def oidc_user(settings: Settings, claims: Mapping[str, Any]) -> User:
    name = str(claims.get("name") or claims.get("preferred_username") or claims.get("email") or "okänd")
    subject = str(claims.get("oid") or claims.get("sub") or "").strip().lower()
    return User(name=name, role=role_for_claims(settings, claims), mode="oidc", subject=subject)


def dev_user() -> User:
    return User(name=DEV_USER, role="strateg", mode="none")
