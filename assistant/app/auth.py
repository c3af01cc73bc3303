"""Who is signed in and with which role; no Streamlit here, so it is testable on its own.

Three modes: OIDC through Streamlit's st.login (production, e.g. Microsoft
Entra ID), a local accounts file, or a single-user development mode when
nothing is configured. The role comes from configuration, never from the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assistant.settings import Settings
from assistant.app.users import AccountStore, Role

Mode = Literal["oidc", "accounts", "none"]
DEV_USER = "utvecklare"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    mode: Mode

    @property
    def is_strateg(self) -> bool:
        return self.role == "strateg"


def auth_mode(settings: Settings, oidc_configured: bool) -> Mode:
    if settings.auth_mode != "auto":
        return settings.auth_mode
    if oidc_configured:
        return "oidc"
    if AccountStore(settings.accounts_path).accounts():
        return "accounts"
    return "none"


def role_for_claims(settings: Settings, claims: Mapping[str, Any]) -> Role:
    """strateg if the e-mail is listed or the group claim holds the strateg group; otherwise chef."""
    emails = {e.strip().lower() for e in settings.strateg_emails.split(",") if e.strip()}
    email = str(claims.get("email") or claims.get("preferred_username") or "").lower()
    if email and email in emails:
        return "strateg"
    groups = claims.get(settings.group_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if settings.strateg_group and settings.strateg_group in groups:
        return "strateg"
    return "chef"


def oidc_user(settings: Settings, claims: Mapping[str, Any]) -> User:
    name = str(claims.get("name") or claims.get("email") or claims.get("preferred_username") or "okänd")
    return User(name=name, role=role_for_claims(settings, claims), mode="oidc")


def dev_user() -> User:
    return User(name=DEV_USER, role="strateg", mode="none")
