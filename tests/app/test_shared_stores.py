"""The app's stores behave the same in SQLite files under data_dir and in PostgreSQL (ASSISTANT_DATABASE_URL):
feedback, conversations, accounts and sign-in sessions, each checked against both backends through the factory the
app uses. A second store object on the same settings stands for a second app server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from assistant.answer import Answer, Citation, CoachingQuestion, Gaps, Turn
from assistant.app import users
from assistant.app.auth import Access, access
from assistant.app.conversations import SqlConversationStore, open_conversations
from assistant.app.feedback import SqlFeedbackStore, open_feedback
from assistant.app.sessions import SqlSessionStore, restore, session_store_for
from assistant.app.users import AccountsFileError, SqlAccountStore, account_store, needs_rehash
from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT, Settings
from assistant.storage import database, schema
from tests import builders

APP = str(PROJECT_ROOT / "app.py")

pytestmark = pytest.mark.slow

NOW = datetime.now(timezone.utc)


def _answer(mark: str = "") -> Answer:
    return Answer(
        text=f"Svar{mark} med frågor [1] och en ö-rad",
        mode="offline",
        questions=[CoachingQuestion("nytta-1", "nytta", "Vilken nytta ska det ge?", "För att kunna följa upp.", [1])],
        citations=[Citation(1, "nyttorealisering", "Nyttorealisering", 3, "Mål", "Nyttan ska följas upp.", "c-1")],
        gaps=Gaps(addressed=["nytta"], missing=["juridik"], short=True),
        retrieved=["c-1", "c-4"],
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one backend: SQLite files in a fresh data_dir, or a fresh PostgreSQL database."""
    values: dict[str, object] = {"data_dir": tmp_path / "data", "feedback_retention_days": 30,
                                 "conversation_retention_days": 30}
    if request.param == "postgresql":
        values["database_url"] = request.getfixturevalue("database_url")
    return Settings(**values)


def _postgres(settings: Settings) -> bool:
    return settings.database_url is not None


@pytest.fixture
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A low scrypt cost for the tests that hash many passwords (hash_password reads it at call time)."""
    monkeypatch.setattr(users, "SCRYPT_N", 2**10)


# --- feedback -----------------------------------------------------------------------------------------

def test_feedback_round_trip_update_and_retention_on_open(settings: Settings) -> None:
    store = open_feedback(settings)
    assert isinstance(store, SqlFeedbackStore) == _postgres(settings)
    old = store.add("anna", 1, "gammal fråga", _answer(), now=NOW - timedelta(days=31))
    kept = store.add("bo", 1, "ny fråga", _answer("-ny"), comment="  ", now=NOW - timedelta(days=29))
    assert kept > old
    store.update(kept, comment="  Bra frågor  ")
    store.update(kept, score=0)
    other = open_feedback(settings)  # a second server: opening it deletes what is past the retention period
    [row] = other.rows()
    assert (row.id, row.user, row.score, row.comment, row.message) == (kept, "bo", 0, "Bra frågor", "ny fråga")
    assert row.answer == _answer("-ny")
    assert other.purge(NOW + timedelta(days=2)) == 1 and other.rows() == []
    with pytest.raises(ValueError, match="score must be 0 or 1, got 5"):
        other.add("anna", 5, "x", _answer())
    store.close()
    other.close()


def test_feedback_notice_says_where_the_rows_are(settings: Settings) -> None:
    notice = open_feedback(settings).notice()
    assert "30 dagar" in notice
    if _postgres(settings):
        assert "er organisations databas" in notice and "lokal" not in notice
    else:
        assert "lokal databas" in notice


# --- conversations ------------------------------------------------------------------------------------

def test_conversations_round_trip_and_owner_isolation(settings: Settings) -> None:
    store = open_conversations(settings)
    assert isinstance(store, SqlConversationStore) == _postgres(settings)
    turns = [Turn("Vi ska byta ärendesystem i hemtjänsten", _answer("-1"))]
    anna = store.save("anna", None, turns)
    turns.append(Turn("Och juridiken?", _answer("-2")))
    assert store.save("anna", anna, turns) == anna  # only the new turn is added
    found = open_conversations(settings).open("anna", anna)  # a second server reads the same
    assert found is not None and found.turns == turns and found.title == "Vi ska byta ärendesystem i hemtjänsten"
    [summary] = store.list("anna")
    assert (summary.id, summary.turns) == (anna, 2)
    # Someone else sees, opens, renames and deletes nothing of it, and saving under its id starts their own.
    assert store.list("bo") == [] and store.open("bo", anna) is None
    assert not store.rename("bo", anna, "Kapat") and not store.delete("bo", anna)
    bos = store.save("bo", anna, [Turn("Bos fråga", _answer("-bo"))])
    assert bos != anna and [s.id for s in store.list("bo")] == [bos]
    assert store.open("anna", anna).turns == turns and store.open("anna", anna).title != "Kapat"
    assert store.rename("anna", anna, "  Nytt   namn ") and store.open("anna", anna).title == "Nytt namn"
    with pytest.raises(AssistantError, match="tomt"):
        store.rename("anna", anna, "   ")
    with pytest.raises(AssistantError, match="högst 100 tecken"):
        store.rename("anna", anna, "x" * 101)
    assert store.delete("anna", anna) and store.open("anna", anna) is None and store.list("anna") == []
    assert not store.delete("anna", anna)


def test_saving_a_conversation_deleted_elsewhere_heals_it_under_a_new_id(settings: Settings) -> None:
    here, there = open_conversations(settings), open_conversations(settings)
    turns = [Turn("Första", _answer("-1"))]
    first = here.save("anna", None, turns)
    assert there.delete("anna", first)  # deleted in another tab (another server)
    turns.append(Turn("Andra", _answer("-2")))
    healed = here.save("anna", first, turns)
    assert healed != first
    assert here.open("anna", first) is None
    assert there.open("anna", healed).turns == turns  # both turns, none lost


def test_conversations_most_recently_written_first_then_newest_created(settings: Settings) -> None:
    store = open_conversations(settings)
    t0 = NOW - timedelta(days=1)
    one = store.save("anna", None, [Turn("Ett", _answer())], now=t0)
    two = store.save("anna", None, [Turn("Två", _answer())], now=t0)  # the same instant: creation order decides
    three = store.save("anna", None, [Turn("Tre", _answer())], now=t0 - timedelta(hours=1))
    assert [s.id for s in store.list("anna")] == [two, one, three]
    store.save("anna", one, [Turn("Ett", _answer()), Turn("Ett igen", _answer())], now=t0 + timedelta(minutes=1))
    assert [s.id for s in store.list("anna")] == [one, two, three]
    store.save("anna", three, [Turn("Tre", _answer())], now=t0 + timedelta(minutes=2))  # nothing new: no change
    assert [s.id for s in store.list("anna")] == [one, two, three]


def test_one_conversation_saved_at_once_by_several_servers_keeps_each_turn_once(settings: Settings) -> None:
    turns = [Turn("Första", _answer("-1"))]
    cid = open_conversations(settings).save("anna", None, turns)
    turns += [Turn("Andra", _answer("-2")), Turn("Tredje", _answer("-3"))]
    stores = [open_conversations(settings) for _ in range(6)]
    start, errors, ids = threading.Barrier(len(stores)), [], []

    def save(store) -> None:  # noqa: ANN001
        start.wait()
        try:
            ids.append(store.save("anna", cid, turns))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and set(ids) == {cid}
    assert open_conversations(settings).open("anna", cid).turns == turns

def test_conversations_past_retention_are_deleted_on_open_and_on_save(settings: Settings) -> None:
    store = open_conversations(settings)
    old = store.save("anna", None, [Turn("Gammal", _answer())], now=NOW - timedelta(days=31))
    recent = store.save("anna", None, [Turn("Färsk", _answer())], now=NOW - timedelta(days=29))
    other = store.save("bo", None, [Turn("Bos gamla", _answer())], now=NOW - timedelta(days=40))
    assert [s.id for s in open_conversations(settings).list("anna")] == [recent]  # purged when opened
    assert open_conversations(settings).open("bo", other) is None
    assert store.open("anna", old) is None
    store.save("anna", None, [Turn("Senare", _answer())], now=NOW + timedelta(days=2))  # a save purges too
    assert recent not in [s.id for s in store.list("anna")]


def test_conversation_notice_is_truthful_about_deletion(settings: Settings) -> None:
    notice = open_conversations(settings).notice()
    assert "30 dagar" in notice
    if _postgres(settings):
        assert "er organisations databas" in notice and "borta för gott" not in notice
        assert "kan ligga kvar" in notice
    else:
        assert "borta för gott" in notice


# --- accounts -----------------------------------------------------------------------------------------

def test_accounts_add_change_verify_and_remove(settings: Settings, cheap_scrypt: None) -> None:
    store = account_store(settings)
    assert isinstance(store, SqlAccountStore) == _postgres(settings)
    assert not store.exists() and store.accounts() == []
    store.add("anna", "strateg", "annas-losenord")
    store.add("bo", "chef", "bos-losenord")
    assert store.verify(" anna ", "annas-losenord").role == "strateg"
    assert store.verify("anna", "fel-losenord") is None and store.verify("okand", "annas-losenord") is None
    store.add("anna", "chef", "annas-nya-losenord")  # a new password and role replace the old ones
    again = account_store(settings)  # the command line or another server
    assert [(a.name, a.role) for a in sorted(again.accounts(), key=lambda a: a.name)] == [("anna", "chef"),
                                                                                          ("bo", "chef")]
    assert again.verify("anna", "annas-losenord") is None and again.verify("anna", "annas-nya-losenord")
    for raw in (a.password for a in again.accounts()):
        assert raw.startswith("scrypt$") and "losenord" not in raw
    with pytest.raises(AssistantError, match="roll"):
        again.add("cecilia", "admin", "cecilias-losenord")
    with pytest.raises(AssistantError, match="minst"):
        again.add("cecilia", "chef", "kort")
    assert again.remove("bo") and not again.remove("bo") and again.get("bo") is None


def test_removing_the_last_account_keeps_sign_in_closed(settings: Settings, cheap_scrypt: None) -> None:
    store = account_store(settings)
    assert access(settings, oidc_configured=False, bind_address="127.0.0.1") == Access("none")
    store.add("anna", "strateg", "annas-losenord")
    assert access(settings, oidc_configured=False, bind_address="127.0.0.1") == Access("accounts")
    assert store.remove("anna")
    assert store.exists() and store.accounts() == []
    closed = access(settings, oidc_configured=False, bind_address="127.0.0.1")
    assert closed.mode == "accounts" and closed.closed and "Det finns inga konton i" in closed.closed
    if _postgres(settings):
        assert "databasen postgresql" in closed.closed and not settings.accounts_path.exists()


def test_an_old_hash_is_upgraded_at_the_next_sign_in_only_for_that_account(
        settings: Settings, cheap_scrypt: None, monkeypatch: pytest.MonkeyPatch) -> None:
    store = account_store(settings)
    store.add("anna", "strateg", "annas-losenord")
    store.add("bo", "chef", "bos-losenord")
    old = store.get("anna").password
    monkeypatch.setattr(users, "SCRYPT_N", 2**11)  # today's cost went up
    assert needs_rehash(old)
    assert store.verify("anna", "fel-losenord") is None and store.get("anna").password == old
    assert store.verify("anna", "annas-losenord").role == "strateg"
    upgraded = account_store(settings).get("anna").password
    assert upgraded.startswith("scrypt$2048$8$1$") and not needs_rehash(upgraded)
    assert store.get("bo").password.startswith("scrypt$1024$")  # only the account that signed in
    assert store.verify("anna", "annas-losenord") is not None


def test_accounts_added_at_once_from_several_servers_are_all_kept(settings: Settings, cheap_scrypt: None) -> None:
    names = [f"person{k}" for k in range(8)]
    errors: list[BaseException] = []

    def add(name: str) -> None:
        try:
            account_store(settings).add(name, "chef", f"{name}-losenord")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(a.name for a in account_store(settings).accounts()) == names


# --- sign-in sessions ---------------------------------------------------------------------------------

def test_a_session_from_one_server_is_valid_on_another_and_sign_out_ends_it_on_both(settings: Settings) -> None:
    first, second = session_store_for(settings), session_store_for(settings)
    assert isinstance(first, SqlSessionStore) == _postgres(settings)
    token = first.issue("anna")
    assert second.resolve(token) == "anna" and first.resolve(token) == "anna"
    second.revoke(token)
    assert first.resolve(token) is None and second.resolve(token) is None
    issued = time.time()
    kept = first.issue("bo", now=issued)
    assert second.resolve(kept[:-2] + ("AA" if not kept.endswith("AA") else "BB")) is None  # a forged signature
    assert second.resolve(kept, now=issued + settings.session_hours * 3600 + 1) is None  # expired
    assert second.resolve(kept) == "bo"
    assert second.resolve("inte.en.token") is None and second.resolve(None) is None
    first.issue("bo")
    assert second.revoke_user("bo") == 2 and first.resolve(kept) is None


def test_the_shared_session_key_lives_in_the_database_not_in_a_file(settings: Settings) -> None:
    if not _postgres(settings):
        session_store_for(settings)
        assert settings.session_key_path.exists()
        return
    stores = []
    threads = [threading.Thread(target=lambda: stores.append(session_store_for(settings))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({s._key for s in stores}) == 1  # four servers starting at once agree on one key
    assert not settings.session_key_path.exists() and not settings.sessions_path.exists()
    engine = database.engine_for(settings.database_url.get_secret_value())
    with engine.connect() as conn:
        stored = conn.execute(schema.app_meta.select().where(schema.app_meta.c.key == "session_key")).one()
        token = stores[0].issue("anna")
        [row] = conn.execute(schema.sessions.select()).all()
    assert bytes.fromhex(stored.value) == stores[0]._key and len(stores[0]._key) == 32
    assert token.split(".")[0] not in row.id_hash  # only the hash of the session id is stored


def test_restore_refuses_a_token_of_a_removed_account_and_ends_its_session(settings: Settings,
                                                                           cheap_scrypt: None) -> None:
    accounts = account_store(settings)
    accounts.add("anna", "strateg", "annas-losenord")
    sessions = session_store_for(settings)
    token = sessions.issue("anna")
    assert restore(sessions, token, accounts.accounts()).role == "strateg"
    accounts.remove("anna")
    assert restore(session_store_for(settings), token, accounts.accounts()) is None
    assert sessions.resolve(token) is None


# --- a database that cannot be reached ----------------------------------------------------------------

def test_an_unreachable_database_closes_sign_in_with_a_swedish_reason(tmp_path: Path) -> None:
    url = f"postgresql://app:hemligt-losenord@127.0.0.1:{builders.free_port()}/rf"
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    result = access(settings, oidc_configured=False, bind_address="127.0.0.1")
    assert result.mode == "accounts" and result.closed  # never development mode because the database is down
    assert "går inte att använda" in result.closed and "hemligt-losenord" not in result.closed
    with pytest.raises(AccountsFileError, match="ingen kan logga in"):
        account_store(settings).verify("anna", "annas-losenord")
    with pytest.raises(AssistantError, match="går inte att använda"):
        session_store_for(settings)
    with pytest.raises(AssistantError, match="går inte att använda"):
        open_conversations(settings)
    with pytest.raises(AssistantError, match="går inte att använda"):
        open_feedback(settings)


# --- the command line and the app against PostgreSQL --------------------------------------------------

def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.app.users", *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=PROJECT_ROOT, timeout=120)


def _with_password(url: str, password: str) -> str:
    """The same database with a password in the URL (the test server trusts loopback, so it is never checked)."""
    return url.replace("postgresql://app@", f"postgresql://app:{password}@")


def test_cli_adds_lists_and_removes_accounts_in_the_database(database_url: str, tmp_path: Path) -> None:
    url = _with_password(database_url, "hemligt-db-losenord")
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    added = _cli(env, "add", "bertil", "--role", "chef", "--password-stdin", stdin="bertils-losenord\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Kontot bertil (chef) är sparat i databasen postgresql://app:***@127.0.0.1:")
    assert _cli(env, "add", "cecilia", "--role", "strateg", "--password-stdin", stdin="cecilias-losenord\n"
                ).returncode == 0
    listed = _cli(env, "list")
    assert (listed.returncode, listed.stdout) == (0, "bertil\tchef\ncecilia\tstrateg\n")
    store = SqlAccountStore(database_url)
    assert store.verify("bertil", "bertils-losenord").role == "chef"
    assert not (tmp_path / "data" / "accounts.json").exists()
    assert _cli(env, "remove", "bertil").returncode == 0
    last = _cli(env, "remove", "cecilia")
    assert last.returncode == 0 and "Det var det sista kontot. Inga konton i databasen postgresql://" in last.stdout
    missing = _cli(env, "remove", "cecilia")
    assert missing.returncode == 1 and "inget konto som heter 'cecilia'" in missing.stderr
    assert store.exists() and store.accounts() == []
    empty = _cli(env, "list")
    assert empty.returncode == 0 and empty.stdout.startswith("Inga konton i databasen postgresql://")
    for run in (added, listed, last, missing, empty):
        assert "hemligt-db-losenord" not in run.stdout + run.stderr
        assert "bertils-losenord" not in run.stdout + run.stderr


def test_cli_with_an_unreachable_database_gives_a_swedish_error(tmp_path: Path) -> None:
    url = f"postgresql://app:hemligt-db-losenord@127.0.0.1:{builders.free_port()}/rf"  # nothing listens there
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    for args, stdin in ((("add", "anna", "--role", "chef", "--password-stdin"), "annas-losenord\n"),
                        (("list",), ""), (("remove", "anna"), "")):
        out = _cli(env, *args, stdin=stdin)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert out.stderr.startswith("Fel: Kontona går inte att läsa, så ingen kan logga in förrän databasen "
                                     "fungerar igen. Databasen postgresql"), out.stderr
        assert "app:***@127.0.0.1:" in out.stderr
        assert "Kontrollera att PostgreSQL kör" in out.stderr
        assert "Traceback" not in out.stderr and "hemligt-db-losenord" not in out.stdout + out.stderr
    wrong = _cli({**env, "ASSISTANT_DATABASE_URL": "sqlite:///data/accounts.sqlite3"}, "list")
    assert wrong.returncode == 2 and wrong.stderr.startswith("Fel: ASSISTANT_DATABASE_URL pekar på 'sqlite'")
    assert not (tmp_path / "data").exists()  # nothing was written next to the app instead


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", url)
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "auto")
    at = AppTest.from_file(APP, default_timeout=60)
    at._page_hash = calc_hash("utvardering")  # the address /utvardering (a cheap strateg page); AppTest has no URL
    return at


def _form(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_app_signs_in_against_the_database_and_keeps_the_session_there(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_scrypt: None) -> None:
    store = SqlAccountStore(database_url)
    store.add("anna", "strateg", "annas-losenord")
    at = _app(tmp_path, monkeypatch, database_url).run()
    assert not at.exception and at.text_input  # the sign-in form: accounts exist in the database
    _form(at, "anna", "annas-losenord")
    assert not at.exception
    assert at.session_state["user"].role == "strateg" and [t.value for t in at.title] == ["Utvärdering"]
    token = at.session_state["session_token"]
    assert SqlSessionStore.from_settings(Settings(database_url=database_url)).resolve(token) == "anna"
    store.add("anna", "chef", "annas-losenord")  # demoted on another server
    at.run()
    assert not at.exception and at.session_state["user"].role == "chef"
    assert not (tmp_path / "data" / "accounts.json").exists() and not (tmp_path / "data" / "sessions.sqlite3").exists()


def test_app_with_an_unreachable_database_shows_why_nobody_can_sign_in(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://app:hemligt-db-losenord@127.0.0.1:{builders.free_port()}/rf"
    at = _app(tmp_path, monkeypatch, url).run()
    assert not at.exception
    assert "user" not in at.session_state and not at.text_input  # no form, and never development mode
    [error] = at.error
    assert error.value.startswith("Kontona går inte att läsa, så ingen kan logga in förrän databasen fungerar igen.")
    assert "hemligt-db-losenord" not in error.value


def test_the_pages_get_one_cached_store_each_from_the_settings(settings: Settings) -> None:
    from assistant.app.conversations import ConversationStore
    from assistant.app.feedback import FeedbackStore
    from assistant.app.sessions import SessionStore
    from assistant.app.ui import conversations as conversation_page
    from assistant.app.ui import resources, signin

    feedback, conversations, sessions = (resources.feedback(settings), conversation_page.store(settings),
                                         signin.session_store(settings))
    if _postgres(settings):
        assert (type(feedback), type(conversations), type(sessions)) == (SqlFeedbackStore, SqlConversationStore,
                                                                         SqlSessionStore)
        assert not settings.data_dir.exists()  # nothing of it lands in a server's own files
    else:
        assert (type(feedback), type(conversations), type(sessions)) == (FeedbackStore, ConversationStore,
                                                                         SessionStore)
    assert resources.feedback(settings) is feedback and conversation_page.store(settings) is conversations
    assert signin.session_store(settings) is sessions
