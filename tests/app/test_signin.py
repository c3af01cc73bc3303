"""Sign-in that fails closed: which mode applies, roles looked up on every page load, throttled failures,
scrypt at OWASP's cost, OIDC roles from oid and groups, a corrupt accounts file, and the error boundary."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from assistant.app import users
from assistant.app.auth import Access, access, oidc_user, role_for_claims
from assistant.app.throttle import Policy, SignInThrottle
from assistant.app.users import AccountsFileError, AccountStore, check_password, hash_password, needs_rehash
from assistant.settings import PROJECT_ROOT, Settings

APP = str(PROJECT_ROOT / "app.py")
STRATEG_OID = "3f2a9c4e-1b7d-4e0a-9f62-5c8d7e1a2b30"
STRATEG_GROUP = "a1b2c3d4-0000-4e11-8f22-334455667788"


# --- which mode applies -----------------------------------------------------------------------------

def test_no_accounts_file_is_development_mode_only_on_loopback(make_settings) -> None:  # noqa: ANN001
    settings = make_settings()
    for loopback in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert access(settings, False, loopback) == Access("none"), loopback
    for reachable in (None, "", "0.0.0.0", "::", "192.168.1.10", "app.kommun.se"):
        result = access(settings, False, reachable)
        assert result.mode == "accounts" and result.closed, reachable
        assert "Utvecklingsläget utan inloggning startar därför inte" in result.closed
        assert "python -m assistant.app.users add" in result.closed
    # Only an explicit ASSISTANT_AUTH_MODE=none opens development mode on a reachable address.
    assert access(make_settings(auth_mode="none"), False, "0.0.0.0") == Access("none")


def test_removing_the_last_account_closes_sign_in(tmp_path: Path) -> None:
    env = {"ASSISTANT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "assistant.app.users", *args], input=stdin, text=True,
                              capture_output=True, env=env, cwd=PROJECT_ROOT)

    assert run("add", "anna", "--role", "strateg", "--password-stdin", stdin="annas-losenord\n").returncode == 0
    removed = run("remove", "anna")
    assert removed.returncode == 0, removed.stderr
    assert "sista kontot" in removed.stdout and "Ingen kan logga in" in removed.stdout
    assert json.loads((tmp_path / "accounts.json").read_text(encoding="utf-8")) == []
    settings = Settings(data_dir=tmp_path)
    for address in ("127.0.0.1", "0.0.0.0"):
        result = access(settings, False, address)
        assert result.mode == "accounts"
        assert "Det finns inga konton" in result.closed and "lägger till ett konto" in result.closed
    assert "Ingen kan logga in" in run("list").stdout


@pytest.mark.parametrize("address, dev", [("127.0.0.1", True), (None, False), ("0.0.0.0", False)])
def test_app_reads_the_bound_address_from_streamlit(address: str | None, dev: bool, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import config

    from assistant.app.ui.signin import DEV_BANNER

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))  # no accounts file
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "auto")
    before = config.get_option("server.address")
    config.set_option("server.address", address)  # as `streamlit run --server.address ...` does
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at._page_hash = calc_hash("utvardering")  # a cheap page; Chatt would build the index first
        at.run()
    finally:
        config.set_option("server.address", before)
    assert not at.exception
    if dev:
        assert [w.body for w in at.sidebar.warning] == [DEV_BANNER]
        assert [t.value for t in at.title] == ["Utvärdering"]
    else:
        assert "user" not in at.session_state and not at.text_input
        assert any("Utvecklingsläget utan inloggning startar därför inte" in e.value for e in at.error)


def test_accounts_mode_without_a_file_and_oidc_without_secrets_are_closed(make_settings) -> None:  # noqa: ANN001
    assert access(make_settings(auth_mode="accounts"), False, "127.0.0.1").closed
    oidc = access(make_settings(auth_mode="oidc"), False, "127.0.0.1")
    assert oidc.mode == "oidc" and "[auth]" in oidc.closed


# --- a corrupt accounts file ------------------------------------------------------------------------

@pytest.mark.parametrize("content, reason", [
    ('[{"name": "anna", "role": "strateg", "password": "scrypt$1', "ogiltig JSON på rad 1"),
    ('{"anna": "strateg"}', "en lista med konton"),
    ('[{"name": "anna", "role": "strateg"}]', "exakt fälten name, role och password"),
    ('[{"name": "anna", "role": "admin", "password": "x"}]', "okända rollen 'admin'"),
    ('[["anna", "strateg", "x"]]', "konto nummer 1"),
])
def test_corrupt_accounts_file_refuses_sign_in_with_a_swedish_reason(make_settings, content: str, reason: str,  # noqa: ANN001
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings()
    settings.accounts_path.parent.mkdir(parents=True)
    settings.accounts_path.write_text(content, encoding="utf-8")
    with pytest.raises(AccountsFileError, match=reason):
        AccountStore(settings.accounts_path).verify("anna", "annas-losenord")
    with caplog.at_level(logging.ERROR):
        result = access(settings, False, "127.0.0.1")  # not development mode, even on loopback
    assert result.mode == "accounts" and reason in result.closed and "Ingen kan logga in" in result.closed
    assert any(r.exc_info for r in caplog.records), "the traceback goes to the log"


def test_corrupt_accounts_file_gives_an_error_page_in_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "accounts.json").write_text("{inte json", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "auto")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("Kontofilen" in e.value and "går inte att läsa" in e.value for e in at.error)
    assert not at.text_input  # no form to type a password into
    assert "user" not in at.session_state


def test_cli_reports_a_corrupt_file_in_swedish(tmp_path: Path) -> None:
    (tmp_path / "accounts.json").write_text("[1, 2", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "assistant.app.users", "list"], text=True, capture_output=True,
                         env={"ASSISTANT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, cwd=PROJECT_ROOT)
    assert out.returncode == 2
    assert out.stderr.startswith("Fel: Kontofilen") and "Traceback" not in out.stderr


def test_cli_usage_errors_are_swedish(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "assistant.app.users", "add", "x", "--role", "admin"], text=True,
                         capture_output=True, env={"ASSISTANT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         cwd=PROJECT_ROOT)
    assert out.returncode == 2
    assert out.stderr == ("Fel: --role: ogiltigt val 'admin' (välj bland 'chef', 'strateg'). "
                          "Se `python -m assistant.app.users add --help`.\n")
    assert not (tmp_path / "accounts.json").exists()


# --- scrypt -----------------------------------------------------------------------------------------

def test_new_hashes_use_owasp_scrypt_parameters() -> None:
    assert (users.SCRYPT_N, users.SCRYPT_R, users.SCRYPT_P) == (2**17, 8, 1)
    stored = hash_password("ett-langt-losenord")
    assert stored.startswith("scrypt$131072$8$1$")
    assert check_password("ett-langt-losenord", stored) and not check_password("fel-losenord", stored)
    assert not needs_rehash(stored)


def test_old_hash_is_upgraded_at_the_next_sign_in(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "accounts.json"
    # A hash as the earlier version wrote it (N=2^14), in an accounts file of two.
    import hashlib

    salt = bytes(range(16))
    old = f"scrypt${2**14}$8$1${salt.hex()}${hashlib.scrypt(b'annas-losenord', salt=salt, n=2**14, r=8, p=1, dklen=32).hex()}"
    path.write_text(json.dumps([{"name": "anna", "role": "strateg", "password": old},
                                {"name": "bo", "role": "chef", "password": old}]), encoding="utf-8")
    store = AccountStore(path)
    assert needs_rehash(old)
    assert store.verify("anna", "fel-losenord") is None
    assert store.get("anna").password == old  # a wrong password changes nothing
    with caplog.at_level(logging.INFO):
        assert store.verify("anna", "annas-losenord").role == "strateg"
    upgraded = store.get("anna").password
    assert upgraded.startswith("scrypt$131072$8$1$") and not needs_rehash(upgraded)
    assert store.get("bo").password == old  # only the account that signed in
    assert store.verify("anna", "annas-losenord") is not None
    assert "annas-losenord" not in caplog.text and "annas-losenord" not in path.read_text(encoding="utf-8")


def test_hash_asking_for_absurd_cost_is_refused_not_computed() -> None:
    salt = "00" * 16
    assert not check_password("x", f"scrypt${2**30}$8$1${salt}${'00' * 32}")
    assert not check_password("x", f"scrypt$16384$8$100000${salt}${'00' * 32}")
    assert not check_password("x", f"bcrypt$16384$8$1${salt}${'00' * 32}")


# --- OIDC roles -------------------------------------------------------------------------------------

def _entra_claims(**extra: object) -> dict:
    """The shape of a Microsoft Entra ID v2.0 ID token as st.user.to_dict() returns it."""
    return {"aud": "6731de76-14a6-49ae-97bc-6eba6914391e", "iss": "https://login.microsoftonline.com/"
            "9122040d-6c67-4c5b-b112-36a304b66dad/v2.0", "iat": 1795000000, "exp": 1795003600,
            "name": "Anna Andersson", "preferred_username": "anna.andersson@kommun.se",
            "email": "anna.andersson@kommun.se", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
            "tid": "9122040d-6c67-4c5b-b112-36a304b66dad", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "ver": "2.0", "is_logged_in": True, **extra}


def test_oidc_role_comes_from_oid_or_group_never_from_email(make_settings) -> None:  # noqa: ANN001
    settings = make_settings(strateg_oids=f"{STRATEG_OID.upper()}, 11111111-2222-3333-4444-555555555555",
                             strateg_group=STRATEG_GROUP, strateg_emails="anna.andersson@kommun.se")
    assert role_for_claims(settings, _entra_claims(oid=STRATEG_OID)) == "strateg"
    assert role_for_claims(settings, _entra_claims(groups=["0f0f0f0f-aaaa-bbbb-cccc-000000000001",
                                                           STRATEG_GROUP])) == "strateg"
    # A user who renamed herself to a strategist's address, or whose UPN matches, stays chef.
    assert role_for_claims(settings, _entra_claims()) == "chef"
    assert role_for_claims(settings, _entra_claims(preferred_username="anna.andersson@kommun.se",
                                                   groups=["0f0f0f0f-aaaa-bbbb-cccc-000000000001"])) == "chef"
    # A group's display name in e-mail or name does not count either.
    assert role_for_claims(settings, _entra_claims(name=STRATEG_GROUP, email=STRATEG_OID)) == "chef"
    # The groups claim left out because of overage: chef.
    assert role_for_claims(settings, _entra_claims(hasgroups=True)) == "chef"
    assert oidc_user(settings, _entra_claims(oid=STRATEG_OID)) .role == "strateg"
    assert oidc_user(settings, _entra_claims()).name == "Anna Andersson"


def test_oidc_app_roles_claim(make_settings) -> None:  # noqa: ANN001
    settings = make_settings(strateg_group="Strateg", group_claim="roles")
    assert role_for_claims(settings, _entra_claims(roles=["Strateg"])) == "strateg"
    assert role_for_claims(settings, _entra_claims(roles=["Chef"], groups=["Strateg"])) == "chef"
    assert role_for_claims(settings, _entra_claims(roles="Strateg")) == "strateg"
    assert role_for_claims(settings, _entra_claims(roles={"Strateg": True})) == "chef"  # not a list: nothing


# --- throttling -------------------------------------------------------------------------------------

def _throttle(path: Path) -> SignInThrottle:
    return SignInThrottle(path, Policy(3, 8, 1.0, 900.0, 3600.0), Policy(5, 20, 1.0, 900.0, 3600.0))


def test_failures_wait_exponentially_then_lock_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "signin.sqlite3"
    throttle = _throttle(path)
    keys = [throttle.account_key("anna"), throttle.client_key("ip:10.0.0.7")]
    t = 1_000_000.0
    waits = []
    for _ in range(8):
        claim = throttle.claim(keys, now=t)
        assert claim.allowed
        after = claim.after
        waits.append(round(after.retry_at - t, 3) if not after.allowed else 0.0)
        t = max(t, after.retry_at)
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 900.0]
    assert throttle.check(keys, now=t - 1).locked
    # A new process with the same file: still locked, and the message says how long in Swedish.
    again = _throttle(path)
    verdict = again.check([again.account_key("anna"), again.client_key("ip:10.0.0.7")], now=t - 600)
    assert not verdict.allowed and verdict.locked
    assert "spärrad" in verdict.message(now=t - 600) and "om 10 min" in verdict.message(now=t - 600)
    blocked = again.claim(keys, now=t - 600)
    assert not blocked.allowed and blocked.failures[0] == 8  # a blocked attempt counts nothing
    # After the lock the next failure locks again at once; a right password clears the account.
    assert again.claim(keys, now=t).after.locked
    again.succeeded(*keys)
    assert again.record(keys[0], now=t) is None
    assert again.record(keys[1], now=t).failures == 8  # the client keeps its earlier failures


def test_short_wait_message_names_the_seconds(tmp_path: Path) -> None:
    throttle = _throttle(tmp_path / "s.sqlite3")
    keys = [throttle.account_key("bo")]
    t = 100.0
    for _ in range(5):
        claim = throttle.claim(keys, now=t)
        t = max(t, claim.after.retry_at)
    assert claim.after.message(now=t - 2) == "För många misslyckade inloggningar i rad. Vänta 2 s och försök igen."


def test_per_client_limit_covers_many_names(tmp_path: Path) -> None:
    throttle = _throttle(tmp_path / "s.sqlite3")
    client = throttle.client_key("ip:10.0.0.9")
    t = 5000.0
    for k in range(20):
        claim = throttle.claim([throttle.account_key(f"namn{k}"), client], now=t)
        assert claim.allowed, k
        t = max(t, claim.after.retry_at)
    assert throttle.check([throttle.account_key("ett-nytt-namn"), client], now=t - 1).locked
    assert throttle.check([throttle.account_key("ett-nytt-namn"), throttle.client_key("ip:10.0.0.10")], now=t).allowed


def test_the_store_holds_no_typed_name_or_address(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    throttle = _throttle(path)
    throttle.claim([throttle.account_key("Hemligt-Losen0rd"), throttle.client_key("ip:203.0.113.5")])
    raw = path.read_bytes()
    assert b"Hemligt" not in raw and b"203.0.113.5" not in raw
    assert path.stat().st_mode & 0o077 == 0


def _form(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


@pytest.fixture
def signin_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "auto")
    monkeypatch.setenv("ASSISTANT_SIGNIN_FREE_FAILURES", "1")
    monkeypatch.setenv("ASSISTANT_SIGNIN_LOCK_FAILURES", "3")
    monkeypatch.setenv("ASSISTANT_SIGNIN_DELAY_SECONDS", "600")  # far longer than the test, so no clock matters
    store = AccountStore(tmp_path / "accounts.json")
    store.add("anna", "strateg", "annas-losenord")
    store.add("bo", "chef", "bos-losenord")
    at = AppTest.from_file(APP, default_timeout=60)
    at._page_hash = calc_hash("utvardering")  # the address /utvardering (a cheap strateg page); AppTest has no URL
    return at


def test_app_throttles_wrong_passwords_and_logs_no_secret(signin_app: AppTest, caplog: pytest.LogCaptureFixture) -> None:
    at = signin_app.run()
    with caplog.at_level(logging.INFO):
        _form(at, "anna", "gissning-ett")
        assert [e.value for e in at.error] == ["Fel användarnamn eller lösenord."]
        _form(at, "anna", "gissning-tva")
        [error] = at.error  # the second failure (past the one free) must wait
        assert error.value.startswith("Fel användarnamn eller lösenord. För många misslyckade inloggningar i rad. "
                                      "Vänta ") and error.value.endswith(" s och försök igen.")
        _form(at, "anna", "annas-losenord")  # right, but too early: not even checked
        assert "user" not in at.session_state and at.text_input
        assert at.error[0].value.startswith("För många misslyckade inloggningar i rad. Vänta ")
        _form(at, "annas-losenord", "anna")  # name and password swapped: an unknown name, throttled per client
    assert not at.exception
    assert "failed sign-in for anna" in caplog.text and "failed sign-in for an unknown name" in caplog.text
    for secret in ("gissning-ett", "gissning-tva", "annas-losenord"):
        assert secret not in caplog.text, secret


# --- roles on every page load -----------------------------------------------------------------------

def test_demoted_user_loses_strateg_pages_and_removed_user_is_signed_out(signin_app: AppTest, tmp_path: Path) -> None:
    at = signin_app.run()
    _form(at, "anna", "annas-losenord")
    assert at.session_state["user"].role == "strateg"
    assert [t.value for t in at.title] == ["Utvärdering"]
    store = AccountStore(tmp_path / "accounts.json")
    store.add("anna", "chef", "annas-losenord")  # demoted from the command line
    at.run()  # the next interaction
    assert not at.exception
    assert at.session_state["user"].role == "chef"
    assert [t.value for t in at.title] == ["Ingen behörighet"]
    assert [link.proto.label for link in at.get("page_link")] == ["Till Chatt"]
    store.remove("anna")
    at.run()
    assert "user" not in at.session_state
    assert any("Du har loggats ut" in w.value for w in at.warning)
    assert at.text_input  # the sign-in form again


# --- the error boundary -----------------------------------------------------------------------------

def _boom_app(kind: str) -> None:
    import streamlit as st

    from assistant.app.ui import boundary

    def page() -> None:
        st.write("före felet")
        if kind == "runtime":
            raise RuntimeError("hemlig intern detalj /srv/data")
        if kind == "stop":
            st.stop()
        if kind == "rerun" and not st.session_state.get("rerun_done"):
            st.session_state["rerun_done"] = True
            st.rerun()
        st.write("efter")

    with boundary.guard("test"):
        st.navigation([st.Page(page, title="Sida", url_path="sida")]).run()


def test_unexpected_error_in_a_page_becomes_a_swedish_message_with_a_reference(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        at = AppTest.from_function(_boom_app, args=("runtime",), default_timeout=30).run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("Något gick fel") and "referensen" in error.value
    ref = error.value.rsplit(" ", 1)[-1].rstrip(".")
    assert len(ref) == 8
    assert "hemlig intern detalj" not in error.value and "Traceback" not in error.value
    assert not at.get("exception")
    record = next(r for r in caplog.records if ref in r.getMessage())
    assert record.exc_info and record.exc_info[0] is RuntimeError


@pytest.mark.parametrize("kind", ["stop", "rerun"])
def test_stop_and_rerun_pass_through_the_boundary(kind: str) -> None:
    at = AppTest.from_function(_boom_app, args=(kind,), default_timeout=30).run()
    assert not at.exception and not at.error
    shown = [m.value for m in at.markdown]
    assert shown == (["före felet"] if kind == "stop" else ["före felet", "efter"])


def test_streamlit_shows_no_error_details() -> None:
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
