"""Sign-in at the edge of the app: OIDC (st.login), local accounts, or development mode."""

from __future__ import annotations

import streamlit as st

from assistant.app.auth import User, auth_mode, dev_user, oidc_user
from assistant.settings import Settings
from assistant.app.users import AccountStore

ROLE_SV = {"chef": "chef", "strateg": "strateg"}
DEV_BANNER = "Utvecklingsläge – ingen inloggning. Alla som når appen är strateg. Skapa konton med `python -m assistant.app.users add NAMN --role strateg` eller konfigurera OIDC."


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return False


def current_user(settings: Settings) -> User | None:
    """The signed-in user, or None when someone still has to sign in (see `sign_in_pages`)."""
    mode = auth_mode(settings, _oidc_configured())
    if mode == "none":
        user = dev_user()
    elif mode == "oidc":
        if not st.user.is_logged_in:
            return None
        user = oidc_user(settings, st.user.to_dict())
    else:
        user = st.session_state.get("user")
        if user is None:
            return None
    st.session_state["user"] = user
    return user


def _sign_in() -> None:
    settings = Settings()
    if auth_mode(settings, _oidc_configured()) == "oidc":
        _welcome()
        st.button("Logga in", type="primary", on_click=st.login)
    else:
        _password_form(settings)


def _sign_in_library() -> None:
    _sign_in()


def _sign_in_evaluation() -> None:
    _sign_in()


def sign_in_pages() -> list:
    """The sign-in form at every address, so /bibliotek is still the page asked for after signing in."""
    return [
        st.Page(_sign_in, title="Logga in", url_path="chatt", default=True),
        st.Page(_sign_in_library, title="Logga in ", url_path="bibliotek", visibility="hidden"),
        st.Page(_sign_in_evaluation, title="Logga in  ", url_path="utvardering", visibility="hidden"),
    ]


def _welcome() -> None:
    st.title("Rätt frågor")
    st.write("Stöd för ledningsgrupper som ska fatta beslut om digitalisering. Logga in för att fortsätta.")


def _password_form(settings: Settings) -> None:
    _welcome()
    if not AccountStore(settings.accounts_path).accounts():
        st.info("Det finns inga konton ännu. Skapa ett med `python -m assistant.app.users add NAMN --role strateg`.")
    with st.form("signin"):
        name = st.text_input("Användarnamn")
        password = st.text_input("Lösenord", type="password")
        submitted = st.form_submit_button("Logga in", type="primary")
    if submitted:
        account = AccountStore(settings.accounts_path).verify(name, password)
        if account is None:
            st.error("Fel användarnamn eller lösenord.")
            return
        st.session_state["user"] = User(account.name, account.role, "accounts")
        st.rerun()


def sidebar(user: User) -> None:
    with st.sidebar:
        if user.mode == "none":
            st.warning(DEV_BANNER, icon="🛠️")
            return
        st.caption(f"Inloggad som **{user.name}** ({ROLE_SV[user.role]})")
        if user.mode == "oidc":
            st.button("Logga ut", on_click=st.logout)
        elif st.button("Logga ut"):
            for key in list(st.session_state.keys()):
                del st.session_state[key]
            st.rerun()


def require_strateg() -> User:
    """Guard at the top of every strateg page: whoever else gets here is stopped."""
    user = st.session_state.get("user")
    if user is None or not user.is_strateg:
        refuse()
    return user


def refuse() -> None:
    st.title("Ingen behörighet")
    st.error("Den här sidan är bara för strateger. Du kan använda Chatt för att ställa frågor.")
    st.stop()


def refuse_evaluation() -> None:
    # A second function because Streamlit identifies a callable page by its function.
    refuse()
