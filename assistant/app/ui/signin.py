"""Sign-in at the edge of the app: OIDC (st.login), local accounts, or development mode.

`current_user` runs on every page load: it decides the mode afresh (see
`auth.access`), and for a local account looks the user up again, so a removed
account is signed out and a changed role applies at once.
"""

from __future__ import annotations

import logging

import streamlit as st
from streamlit import config

from assistant.app import auth, sessions
from assistant.app.auth import Access, User, dev_user, oidc_user
from assistant.app.throttle import SignInThrottle
from assistant.app.stores import STORE_ERRORS, location
from assistant.app.users import AccountsFileError, account_store
from assistant.errors import AssistantError
from assistant.settings import Settings

log = logging.getLogger(__name__)
ROLE_SV = {"chef": "chef", "strateg": "strateg"}
DEV_BANNER = "Utvecklingsläge – ingen inloggning. Alla som når appen är strateg. Skapa konton med `python -m assistant.app.users add NAMN --role strateg` eller konfigurera OIDC."
WRONG = "Fel användarnamn eller lösenord."
_NOTICE = "signin_notice"
_TOKEN = "session_token"  # this browser session's sign-in token (accounts mode)
_WRITE_COOKIE = "session_cookie"  # a fresh token the browser still has to store
_CLEAR_COOKIE = "session_cookie_clear"
_warned: set[str] = set()


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return False


def bind_address() -> str | None:
    """The address Streamlit listens on (`--server.address`); None means every interface."""
    return config.get_option("server.address")


def _access(settings: Settings) -> Access:
    return auth.access(settings, _oidc_configured(), bind_address())


def current_user(settings: Settings) -> User | None:
    """The signed-in user, or None when someone still has to sign in (see `sign_in_pages`)."""
    access = _access(settings)
    previous = st.session_state.get("user")
    if access.closed:
        user = None
        if previous is not None:  # nobody may stay signed in; nothing of the session is left for the next person
            _sign_out()
    elif access.mode == "none":
        user = dev_user()
    elif access.mode == "oidc":
        user = _oidc(settings) if st.user.is_logged_in else None
    else:
        try:
            accounts = account_store(settings).accounts()
            if previous is None:  # a reload: the session cookie, if any, stands for the user
                previous = _from_cookie(settings, accounts)
            user = auth.account_user(previous, accounts)
        except AccountsFileError:  # broken between the two reads; the sign-in page says why
            user = None
            if previous is not None:
                _sign_out()
        else:
            if user is None and previous is not None and previous.mode == "accounts":
                log.warning("signed out %s: the account no longer exists", previous.name)
                _sign_out(f"Du har loggats ut: kontot {previous.name} finns inte längre.")
            elif user is None and previous is not None:  # e.g. development mode ended when an account was added
                _sign_out()
            elif user and previous and user.role != previous.role:
                log.warning("role of %s changed from %s to %s", user.name, previous.role, user.role)
    if user is None:
        st.session_state.pop("user", None)
    else:
        st.session_state["user"] = user
    return user


@st.cache_resource(show_spinner=False)
def _session_store(where: str, key_path: str, hours: float, _settings: Settings) -> sessions.SessionStore:
    return sessions.session_store_for(_settings)


def session_store(settings: Settings) -> sessions.SessionStore:
    """The sign-in sessions (SQLite under data_dir, or the shared database with its shared key)."""
    return _session_store(location(settings, settings.sessions_path), str(settings.session_key_path),
                          settings.session_hours, settings)


def _from_cookie(settings: Settings, accounts: list) -> User | None:
    token = st.context.cookies.get(sessions.COOKIE)
    if not token:
        return None
    try:
        user = sessions.restore(session_store(settings), token, accounts)
    except (AssistantError, *STORE_ERRORS):  # no restored session; signing in still works
        log.exception("could not check the session cookie")
        return None
    if user is not None:
        st.session_state[_TOKEN] = token
    return user


def _start_session(settings: Settings, user: User) -> None:
    """After a password sign-in: a server-side session and a cookie, so a reload keeps the user signed in."""
    try:
        token = session_store(settings).issue(user.name)
    except (AssistantError, *STORE_ERRORS):  # signed in for this browser session only
        log.exception("could not start a session for %s", user.name)
        return
    st.session_state[_TOKEN] = st.session_state[_WRITE_COOKIE] = token


def _end_session() -> None:
    """Sign-out: the session ends on the server, so the cookie (or a copy of it) no longer signs anyone in."""
    token = st.session_state.get(_TOKEN)
    if not token:
        return
    try:
        session_store(Settings()).revoke(token)
    except (AssistantError, *STORE_ERRORS):
        log.exception("could not end the session on the server")


def _cookie_frame(token: str | None) -> None:
    """An invisible frame whose script stores (or clears) the session cookie on the app's own page."""
    st.iframe(sessions.cookie_script(token, Settings().session_hours), height="content", tab_index=-1,
              alt="Inloggningssessionen (osynlig)")


def _oidc(settings: Settings) -> User:
    claims = st.user.to_dict()
    if settings.strateg_emails and "emails" not in _warned:
        _warned.add("emails")
        log.warning("ASSISTANT_STRATEG_EMAILS is ignored: roles come from ASSISTANT_STRATEG_OIDS and "
                    "ASSISTANT_STRATEG_GROUP (e-mail can be changed by the user)")
    if auth.groups_overage(claims) and "overage" not in _warned:
        _warned.add("overage")
        log.warning("the ID token has no '%s' claim because a user is in too many groups; such users are chef. "
                    "Use app roles (ASSISTANT_GROUP_CLAIM=roles) or groups assigned to the application",
                    settings.group_claim)
    return oidc_user(settings, claims)


def _sign_out(notice: str | None = None) -> None:
    _end_session()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[_CLEAR_COOKIE] = True
    if notice:
        st.session_state[_NOTICE] = notice


def _sign_in() -> None:
    settings = Settings()
    access = _access(settings)
    _welcome()
    if st.session_state.get(_CLEAR_COOKIE) or st.context.cookies.get(sessions.COOKIE):
        _cookie_frame(None)  # a signed-out or refused cookie goes from the browser too
    if notice := st.session_state.pop(_NOTICE, None):
        st.warning(notice)
    if access.closed:
        st.error(access.closed)
    elif access.mode == "oidc":
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
    st.title("Rätt frågor", anchor=False)
    st.write("Stöd för ledningsgrupper som ska fatta beslut om digitalisering. Logga in för att fortsätta.")


def _password_form(settings: Settings) -> None:
    with st.form("signin"):
        name = st.text_input("Användarnamn")
        password = st.text_input("Lösenord", type="password")
        submitted = st.form_submit_button("Logga in", type="primary")
    if not submitted:
        return
    if not name.strip() or not password:
        st.error("Fyll i både användarnamn och lösenord.")
        return
    try:
        user = attempt(settings, name, password, client_id(settings))
    except AssistantError as exc:  # a broken accounts file or throttle store: nobody signs in
        st.error(str(exc))
        return
    if user is None:
        return
    st.session_state["user"] = user
    st.session_state.pop(_CLEAR_COOKIE, None)
    _start_session(settings, user)
    st.rerun()


def attempt(settings: Settings, name: str, password: str, client: str) -> User | None:
    """One sign-in attempt through the throttle; shows why it failed, logs without the password."""
    throttle = SignInThrottle.from_settings(settings)
    keys = [throttle.account_key(name), throttle.client_key(client)]
    claim = throttle.claim(keys)
    if not claim.allowed:
        log.warning("sign-in attempt from %s refused: throttled until %s", _client_label(client),
                    _clock(claim.before.retry_at))
        st.error(claim.before.message())
        return None
    store = account_store(settings)
    account = store.verify(name, password)
    if account is None:
        verdict = claim.after
        # Only a real account's name goes to the log: a typed name may be a password typed in the wrong box.
        who = name.strip() if store.get(name.strip()) else "an unknown name"
        log.warning("failed sign-in for %s from %s (%d failures in a row for the name, %d from the client)%s",
                    who, _client_label(client), claim.failures[0], claim.failures[1],
                    "" if verdict.allowed else f"; next attempt allowed at {_clock(verdict.retry_at)}"
                    + (" (locked)" if verdict.locked else ""))
        st.error(WRONG if verdict.allowed else f"{WRONG} {verdict.message()}")
        return None
    throttle.succeeded(*keys)
    log.info("signed in: %s (%s) from %s", account.name, account.role, _client_label(client))
    return User(account.name, account.role, "accounts")


def client_id(settings: Settings) -> str:
    """Who is trying, for throttling: the address (through trusted proxies only), else the browser session."""
    if settings.trusted_proxy_hops:
        forwarded = [part.strip() for value in st.context.headers.get_all("X-Forwarded-For")
                     for part in value.split(",") if part.strip()]
        if len(forwarded) >= settings.trusted_proxy_hops:
            return "ip:" + forwarded[-settings.trusted_proxy_hops]
    ip = st.context.ip_address  # None on loopback (e.g. behind a proxy on this host: set trusted_proxy_hops)
    if isinstance(ip, str) and ip:
        return "ip:" + ip
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return "session:" + (ctx.session_id if ctx else "okänd")


def _client_label(client: str) -> str:
    return "a browser session" if client.startswith("session:") else client.removeprefix("ip:")


def _clock(at: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def sidebar(user: User) -> None:
    with st.sidebar:
        if user.mode == "none":
            st.warning(DEV_BANNER, icon="🛠️")
            return
        st.caption(f"Inloggad som **{user.name}** ({ROLE_SV[user.role]})")
        if user.mode == "accounts" and (token := st.session_state.get(_WRITE_COOKIE)):
            _cookie_frame(token)  # rendered on every run of this session, so the browser surely gets it
        if user.mode == "oidc":
            st.button("Logga ut", on_click=st.logout)
        elif st.button("Logga ut"):
            _sign_out()
            st.rerun()


def require_strateg() -> User:
    """Guard at the top of every strateg page: whoever else gets here is stopped."""
    user = st.session_state.get("user")
    if user is None or not user.is_strateg:
        refuse()
    return user


def refuse() -> None:
    from assistant.app.ui.navigation import chat_page

    st.title("Ingen behörighet", anchor=False)
    st.error("Den här sidan är bara för strateger. Du kan använda Chatt för att ställa frågor.")
    st.page_link(chat_page(), label="Till Chatt", icon=":material/chat:")
    st.stop()


def refuse_evaluation() -> None:
    # A second function because Streamlit identifies a callable page by its function.
    refuse()
