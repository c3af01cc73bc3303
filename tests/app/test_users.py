"""Local accounts: scrypt hashes, the command line, and which sign-in mode applies."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.app.auth import Access, access
from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT
from assistant.app.users import AccountStore, check_password, hash_password


def test_password_is_stored_salted_and_verifies(tmp_path) -> None:  # noqa: ANN001
    store = AccountStore(tmp_path / "accounts.json")
    store.add("anna", "strateg", "ett-langt-losenord")
    raw = (tmp_path / "accounts.json").read_text(encoding="utf-8")
    assert "ett-langt-losenord" not in raw
    assert store.verify("anna", "ett-langt-losenord").role == "strateg"
    assert store.verify("anna", "fel-losenord") is None
    assert store.verify("okand", "ett-langt-losenord") is None
    assert hash_password("samma-losenord") != hash_password("samma-losenord")  # a new salt each time
    assert not check_password("x", "inte-ett-hashformat")


def test_add_rejects_bad_role_name_and_short_password(tmp_path) -> None:  # noqa: ANN001
    store = AccountStore(tmp_path / "accounts.json")
    with pytest.raises(AssistantError, match="roll"):
        store.add("anna", "admin", "ett-langt-losenord")
    with pytest.raises(AssistantError, match="minst"):
        store.add("anna", "chef", "kort")
    with pytest.raises(AssistantError, match="användarnamn"):
        store.add("anna svensson", "chef", "ett-langt-losenord")
    assert store.accounts() == []


def test_cli_add_list_remove(tmp_path) -> None:  # noqa: ANN001
    env = {"ASSISTANT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "assistant.app.users", *args], input=stdin, text=True,
                              capture_output=True, env=env, cwd=PROJECT_ROOT)

    added = run("add", "bertil", "--role", "chef", "--password-stdin", stdin="bertils-losenord\n")
    assert added.returncode == 0, added.stderr
    assert "bertil" in run("list").stdout
    assert AccountStore(tmp_path / "accounts.json").verify("bertil", "bertils-losenord").role == "chef"
    assert json.loads((tmp_path / "accounts.json").read_text())[0]["password"].startswith("scrypt$")
    assert run("remove", "bertil").returncode == 0
    missing = run("remove", "bertil")
    assert missing.returncode == 1 and "inget konto" in missing.stderr


def test_access_follows_configuration_and_fails_closed(make_settings) -> None:  # noqa: ANN001
    settings = make_settings()
    assert access(settings, oidc_configured=False, bind_address="127.0.0.1") == Access("none")
    assert access(settings, oidc_configured=True, bind_address="0.0.0.0") == Access("oidc")
    AccountStore(settings.accounts_path).add("anna", "strateg", "ett-langt-losenord")
    assert access(settings, oidc_configured=False, bind_address="127.0.0.1") == Access("accounts")
    assert access(make_settings(auth_mode="none"), oidc_configured=True, bind_address=None) == Access("none")
