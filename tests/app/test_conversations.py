"""Conversations kept per user: exact round trip, isolation between users, rename, real deletion, retention;
and the signed session tokens that keep an accounts-mode user signed in across a reload."""

from __future__ import annotations

import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.answer import Answer, Citation, CoachingQuestion, Gaps, Turn, WarningSign
from assistant.app.conversations import ConversationStore, title_for
from assistant.app.sessions import COOKIE, SessionStore, cookie_script, load_key, restore
from assistant.app.users import Account
from assistant.errors import AssistantError

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
SECRET = "Hemtjänstens nattpatrull i Norrbyn ska få nya nyckelfria lås"


def _answer(mark: str = "") -> Answer:
    return Answer(
        text=f"Svar med frågor{mark} [1] och en ö-rad\n\n> citat",
        mode="llm",
        refused=False,
        questions=[CoachingQuestion("nytta-1", "nytta", "Vilken nytta ska det ge?", "För att kunna följa upp.", [1, 2])],
        citations=[Citation(1, "nyttorealisering", "Nyttorealisering", 3, "Mål", "Nyttan ska följas upp.", "c-1"),
                   Citation(2, "juridik", "Juridik och säkerhet", None, None, "Dataskydd först.", "c-9")],
        gaps=Gaps(addressed=["nytta"], missing=["juridik", "kompetens"], short=True),
        signs=[WarningSign("it-leder", "IT leder", "Varningssignal: IT leder projektet.", [2])],
        coverage="related",
        kind="initiative",
        retrieved=["c-1", "c-9", "c-4"],
        body="Nyttan ska följas upp [1].",
    )


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "conversations.sqlite3", retention_days=30)


def test_turns_come_back_exactly_as_they_were_answered(store: ConversationStore) -> None:
    turns = [Turn(SECRET, _answer()), Turn("Utveckla fråga 2", Answer("Vägrat", refused=True, coverage="none",
                                                                       kind="out_of_scope"))]
    cid = store.save("accounts:anna", None, turns[:1], now=T0)
    assert store.save("accounts:anna", cid, turns, now=T0 + timedelta(minutes=5)) == cid
    opened = store.open("accounts:anna", cid)
    assert opened is not None
    assert opened.turns == turns  # dataclass equality: every field, chunk ids and internal fields included
    assert opened.title == SECRET
    assert (opened.created_at, opened.updated_at) == (T0, T0 + timedelta(minutes=5))
    # Re-saving the same list adds nothing.
    store.save("accounts:anna", cid, turns, now=T0 + timedelta(minutes=6))
    assert len(store.open("accounts:anna", cid).turns) == 2


def test_the_file_is_private(store: ConversationStore) -> None:
    store.save("accounts:anna", None, [Turn("x", _answer())])
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_title_is_the_first_message_on_one_line_and_shortened() -> None:
    assert title_for("  Kort\nfråga  ") == "Kort fråga"
    long = "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten och IT leder hela projektet själv"
    title = title_for(long)
    assert title.endswith("…") and len(title) <= 60 and long.startswith(title[:-1])
    assert not title[:-1].endswith(" ")


def test_a_user_never_lists_opens_renames_or_deletes_another_users_conversation(store: ConversationStore) -> None:
    annas = store.save("accounts:anna", None, [Turn(SECRET, _answer())], now=T0)
    bos = store.save("accounts:bo", None, [Turn("Bos fråga", _answer())], now=T0)
    assert [s.id for s in store.list("accounts:anna")] == [annas]
    assert [s.id for s in store.list("accounts:bo")] == [bos]
    assert store.open("accounts:bo", annas) is None
    assert store.rename("accounts:bo", annas, "Kapad") is False
    assert store.delete("accounts:bo", annas) is False
    # Saving under someone else's id starts a new conversation of one's own instead of writing into theirs.
    other = store.save("accounts:bo", annas, [Turn("Inbrott", _answer())], now=T0)
    assert other != annas
    assert store.open("accounts:anna", annas).turns == [Turn(SECRET, _answer())]
    assert store.open("accounts:anna", annas).title == SECRET
    # The same name in another sign-in mode is another person.
    assert store.list("oidc:anna") == []


def test_list_is_newest_first_and_rename_keeps_the_turns(store: ConversationStore) -> None:
    first = store.save("u", None, [Turn("Första", _answer())], now=T0)
    second = store.save("u", None, [Turn("Andra", _answer())], now=T0 + timedelta(hours=1))
    assert [s.id for s in store.list("u")] == [second, first]
    store.save("u", first, [Turn("Första", _answer()), Turn("Följdfråga", _answer("2"))], now=T0 + timedelta(hours=2))
    summaries = store.list("u")
    assert [s.id for s in summaries] == [first, second]
    assert [s.turns for s in summaries] == [2, 1]
    assert store.rename("u", first, "  Upphandling\n hemtjänst ") is True
    assert store.list("u")[0].title == "Upphandling hemtjänst"
    assert len(store.open("u", first).turns) == 2
    with pytest.raises(AssistantError, match="tomt"):
        store.rename("u", first, "   ")


def test_deleting_removes_the_text_from_the_file(store: ConversationStore) -> None:
    keep = store.save("u", None, [Turn("Behåll den här", _answer())])
    gone = store.save("u", None, [Turn(SECRET, _answer())])
    assert SECRET.encode() in store.path.read_bytes()
    assert store.delete("u", gone) is True
    assert store.open("u", gone) is None
    assert [s.id for s in store.list("u")] == [keep]
    for path in store.path.parent.iterdir():  # the database and any journal beside it
        assert SECRET.encode() not in path.read_bytes(), path
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (gone,)).fetchone() == (0,)


def test_conversations_older_than_the_retention_period_are_deleted(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path, retention_days=30)
    now = datetime.now(timezone.utc)
    old = store.save("u", None, [Turn(SECRET, _answer())], now=now - timedelta(days=31))
    kept = store.save("u", None, [Turn("Ny", _answer())], now=now - timedelta(days=29))
    assert {s.id for s in store.list("u")} == {old, kept}  # the save itself purged with its own "now"
    store.close()
    reopened = ConversationStore(path, retention_days=30)  # opening purges
    assert [s.id for s in reopened.list("u")] == [kept]
    assert SECRET.encode() not in path.read_bytes()
    # A save purges too; a conversation written to recently stays however old its start is.
    reopened.save("u", kept, [Turn("Ny", _answer()), Turn("Mer", _answer())], now=now)
    assert reopened.purge(now + timedelta(days=29)) == 0
    assert reopened.purge(now + timedelta(days=31)) == 1
    assert reopened.list("u") == []


# --- session tokens ---------------------------------------------------------------------------------

ACCOUNTS = [Account("anna", "strateg", "scrypt$..."), Account("bo", "chef", "scrypt$...")]


@pytest.fixture
def sessions(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions.sqlite3", load_key(tmp_path / "session.key"), hours=12)


def test_session_key_is_created_once_and_private(tmp_path: Path) -> None:
    key = load_key(tmp_path / "session.key")
    assert len(key) == 32 and load_key(tmp_path / "session.key") == key
    assert stat.S_IMODE((tmp_path / "session.key").stat().st_mode) == 0o600
    (tmp_path / "short.key").write_bytes(b"kort")
    with pytest.raises(AssistantError, match="för kort"):
        load_key(tmp_path / "short.key")


def test_valid_token_restores_the_user_with_the_role_from_the_accounts_file(sessions: SessionStore) -> None:
    token = sessions.issue("anna")
    assert sessions.resolve(token) == "anna"
    user = restore(sessions, token, ACCOUNTS)
    assert (user.name, user.role, user.mode) == ("anna", "strateg", "accounts")
    demoted = [Account("anna", "chef", "scrypt$..."), ACCOUNTS[1]]
    assert restore(sessions, token, demoted).role == "chef"  # roles are read again, never kept in the token


def test_expired_token_is_refused(sessions: SessionStore) -> None:
    token = sessions.issue("anna", now=1_000_000.0)
    assert sessions.resolve(token, now=1_000_000.0 + 11.9 * 3600) == "anna"
    assert sessions.resolve(token, now=1_000_000.0 + 12 * 3600 + 1) is None


@pytest.mark.parametrize("tamper", ["expiry", "mac", "id", "garbage", "empty", "other-key"])
def test_tampered_token_is_refused(sessions: SessionStore, tmp_path: Path, tamper: str) -> None:
    token = sessions.issue("anna")
    session_id, expires, mac = token.split(".")
    forged = {
        "expiry": f"{session_id}.{int(expires) + 86400 * 365}.{mac}",
        "mac": f"{session_id}.{expires}.{mac[:-2]}AA",
        "id": f"{session_id[:-2]}AA.{expires}.{mac}",
        "garbage": "å.ä.ö",
        "empty": "",
        "other-key": SessionStore(tmp_path / "other.sqlite3", load_key(tmp_path / "other.key"), 12).issue("anna"),
    }[tamper]
    assert sessions.resolve(forged) is None
    assert restore(sessions, forged, ACCOUNTS) is None


def test_removed_user_is_refused_and_the_session_ended(sessions: SessionStore) -> None:
    token = sessions.issue("anna")
    assert restore(sessions, token, [ACCOUNTS[1]]) is None
    assert sessions.resolve(token) is None  # ended: re-adding "anna" does not revive an old cookie
    assert restore(sessions, token, ACCOUNTS) is None


def test_signed_out_token_no_longer_works_even_as_a_copy(sessions: SessionStore) -> None:
    token = sessions.issue("anna")
    other = sessions.issue("anna")  # the same person in another browser
    sessions.revoke(token)
    assert sessions.resolve(token) is None
    assert sessions.resolve(other) == "anna"
    db = sqlite3.connect(sessions.path)  # the server keeps no usable token: only hashes of the ids
    assert all(other.split(".")[0] not in str(row) for row in db.execute("SELECT * FROM sessions"))


def test_cookie_script_sets_a_strict_cookie_and_clears_it() -> None:
    script = cookie_script("abc_-.123.x-y", hours=12)
    assert f"{COOKIE}=abc_-.123.x-y; Max-Age=43200; Path=/; SameSite=Strict" in script
    assert "'https:'?'; Secure'" in script
    assert f"{COOKIE}=; Max-Age=0" in cookie_script(None, hours=12)
    with pytest.raises(ValueError):
        cookie_script("x'; alert(1); '", hours=12)


# --- the sidebar in the real app (AppTest) ----------------------------------------------------------

from streamlit.testing.v1 import AppTest  # noqa: E402

from assistant.app.auth import User  # noqa: E402
from assistant.app.conversations import ConversationStore as _Store  # noqa: E402
from assistant.app.users import AccountStore  # noqa: E402
from assistant.ingestion.index import Index  # noqa: E402
from assistant.settings import PROJECT_ROOT, Settings  # noqa: E402

APP = str(PROJECT_ROOT / "app.py")
INITIATIVE = "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten"
FOLLOWUP = "Hur följer vi upp nyttan?"


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # noqa: ANN001
    data = tmp_path_factory.mktemp("conversation-app")
    index = Index(Settings(data_dir=data), embedder=embedder)
    report = index.ingest([PROJECT_ROOT / "corpus" / n for n in ("nyttorealisering.md", "ledningsgruppens-roll.md")])
    assert not report.failed, report.failed
    index.close()
    return data


def _app(app_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> AppTest:
    accounts = tmp_path / "accounts.json"
    if not accounts.exists() or AccountStore(accounts).get(name) is None:
        AccountStore(accounts).add(name, "chef", "ett-langt-losenord")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(app_data))
    monkeypatch.setenv("ASSISTANT_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "accounts")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["user"] = User(name, "chef", "accounts")
    return at


def _saved(app_data: Path, owner: str) -> _Store:
    return _Store(Settings(data_dir=app_data).conversations_path, 90)


def _button(at: AppTest, label: str):  # noqa: ANN202
    return next(b for b in at.button if b.label == label)


def _messages(at: AppTest) -> list[str]:
    return [m.name for m in at.chat_message]


def test_each_answer_is_saved_at_once_and_an_old_conversation_opens_again(app_data: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(app_data, monkeypatch, tmp_path, "sara").run()
    assert not at.exception
    assert any("Konversationer sparas i 90 dagar" in c.value and "allmänna handlingar" in c.value
               for c in at.sidebar.caption)
    at.chat_input[0].set_value(INITIATIVE).run()
    assert not at.exception
    [summary] = _saved(app_data, "accounts:sara").list("accounts:sara")
    assert summary.title == INITIATIVE and summary.turns == 1
    assert at.query_params["konversation"] == summary.id
    at.chat_input[0].set_value(FOLLOWUP).run()
    stored = _saved(app_data, "accounts:sara").open("accounts:sara", summary.id)
    assert [t.message for t in stored.turns] == [INITIATIVE, FOLLOWUP]
    assert stored.turns == at.session_state["turns"]  # what was shown is what was stored

    _button(at, "Ny konversation").click().run()  # nothing to discard: no question asked
    assert not at.exception and not at.chat_message and not at.sidebar.warning
    entry = next(b for b in at.sidebar.button if b.key == f"conversation-{summary.id}")
    assert entry.label.startswith("Vi ska upphandla") and "i dag" in entry.label
    entry.click().run()
    assert _messages(at) == ["user", "assistant", "user", "assistant"]
    assert at.chat_message[0].markdown[0].value == INITIATIVE


def test_reload_opens_the_conversation_in_the_address_but_never_someone_elses(app_data: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = _saved(app_data, "accounts:ulla")
    cid = store.save("accounts:ulla", None, [Turn(SECRET, _answer())])
    at = _app(app_data, monkeypatch, tmp_path, "ulla")
    at.query_params["konversation"] = cid  # what a reload (F5) of the page brings
    at.run()
    assert not at.exception
    assert _messages(at) == ["user", "assistant"] and at.chat_message[0].markdown[0].value == SECRET

    other = _app(app_data, monkeypatch, tmp_path, "olle")
    other.query_params["konversation"] = cid
    other.run()
    assert not other.exception
    assert not other.chat_message
    assert "konversation" not in other.query_params
    assert not any(b.key == f"conversation-{cid}" for b in other.sidebar.button)
    assert SECRET not in "\n".join(b.label for b in other.sidebar.button)


def test_delete_asks_and_the_question_stays_until_answered(app_data: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store = _saved(app_data, "accounts:disa")
    cid = store.save("accounts:disa", None, [Turn(SECRET, _answer())])
    at = _app(app_data, monkeypatch, tmp_path, "disa")
    at.query_params["konversation"] = cid
    at.run()
    _button(at, "Ta bort").click().run()
    [warning] = at.sidebar.warning
    assert warning.value.startswith(f"Ta bort ”{SECRET}” för gott?")
    at.run()  # another rerun (any interaction) does not make the question go away
    assert [w.value for w in at.sidebar.warning] == [warning.value]
    _button(at, "Avbryt").click().run()
    assert not at.sidebar.warning and store.open("accounts:disa", cid) is not None
    _button(at, "Ta bort").click().run()
    _button(at, "Ja, ta bort").click().run()
    assert not at.exception
    assert store.open("accounts:disa", cid) is None and store.list("accounts:disa") == []
    assert not at.chat_message and "konversation" not in at.query_params


def test_rename_the_open_conversation(app_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _saved(app_data, "accounts:rut")
    cid = store.save("accounts:rut", None, [Turn(SECRET, _answer())])
    at = _app(app_data, monkeypatch, tmp_path, "rut")
    at.query_params["konversation"] = cid
    at.run()
    _button(at, "Byt namn").click().run()
    assert at.text_input(key="conversation-title").value == SECRET
    at.text_input(key="conversation-title").input("   ")
    _button(at, "Spara namn").click().run()
    assert [e.value for e in at.sidebar.error] == ["Namnet får inte vara tomt."]
    at.text_input(key="conversation-title").input("Lås i hemtjänsten")
    _button(at, "Spara namn").click().run()
    assert not at.exception and not at.sidebar.error
    assert store.list("accounts:rut")[0].title == "Lås i hemtjänsten"
    assert any(b.label.startswith("Lås i hemtjänsten ·") for b in at.sidebar.button)


def test_sign_out_ends_the_session_and_signing_in_again_finds_the_conversations(
        app_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.app.sessions import SessionStore, load_key

    settings = Settings(data_dir=app_data)
    at = _app(app_data, monkeypatch, tmp_path, "stina")
    del at.session_state["user"]
    at.run()
    at.text_input[0].input("stina")
    at.text_input[1].input("ett-langt-losenord")
    at.button[0].click().run()
    token = at.session_state["session_token"]
    sessions = SessionStore(settings.sessions_path, load_key(settings.session_key_path), 12)
    assert sessions.resolve(token) == "stina"
    at.chat_input[0].set_value(INITIATIVE).run()
    _button(at, "Logga ut").click().run()
    assert not at.exception and "user" not in at.session_state
    assert sessions.resolve(token) is None  # the cookie, or a copy of it, no longer signs anyone in
    at.text_input[0].input("stina")
    at.text_input[1].input("ett-langt-losenord")
    at.button[0].click().run()
    titles = [b.label for b in at.sidebar.button if str(b.key).startswith("conversation-")]
    assert any(t.startswith("Vi ska upphandla") for t in titles)
