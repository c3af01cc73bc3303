"""Local accounts with scrypt-hashed passwords, and their command line.

`python -m assistant.app.users add NAME --role strateg` (the password is prompted,
or read from stdin with --password-stdin), `list`, `remove NAME`. The file is
JSON under data_dir (ASSISTANT_ACCOUNTS_FILE to move it); it holds only salts
and hashes, never a password.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from assistant.errors import AssistantError

Role = Literal["chef", "strateg"]
ROLES: tuple[Role, ...] = ("chef", "strateg")
_NAME_RE = re.compile(r"^[\w.@-]{1,64}$")
_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    password: str  # "scrypt$n$r$p$salt-hex$hash-hex"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


class AccountStore:
    """The accounts file. Each change rewrites it atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def accounts(self) -> list[Account]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8") or "[]")
            return [Account(**item) for item in raw]
        except (ValueError, TypeError) as exc:
            raise AssistantError(f"Kontofilen {self.path} kunde inte läsas ({exc}).") from exc

    def get(self, name: str) -> Account | None:
        return next((a for a in self.accounts() if a.name == name), None)

    def add(self, name: str, role: str, password: str) -> Account:
        if not _NAME_RE.match(name):
            raise AssistantError(f"Ogiltigt användarnamn '{name}': använd bokstäver, siffror, punkt, @, - eller _.")
        if role not in ROLES:
            raise AssistantError(f"Okänd roll '{role}'. Välj chef eller strateg.")
        if len(password) < MIN_PASSWORD:
            raise AssistantError(f"Lösenordet måste ha minst {MIN_PASSWORD} tecken.")
        account = Account(name, role, hash_password(password))  # type: ignore[arg-type]
        others = [a for a in self.accounts() if a.name != name]
        self._write([*others, account])
        return account

    def remove(self, name: str) -> bool:
        accounts = self.accounts()
        kept = [a for a in accounts if a.name != name]
        if len(kept) == len(accounts):
            return False
        self._write(kept)
        return True

    def verify(self, name: str, password: str) -> Account | None:
        account = self.get(name.strip())
        if account is None:
            hash_password(password)  # same work either way, so timing does not reveal which names exist
            return None
        return account if check_password(password, account.password) else None

    def _write(self, accounts: list[Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps([asdict(a) for a in accounts], ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Lösenord: ")
    if first != getpass.getpass("Upprepa lösenordet: "):
        raise AssistantError("Lösenorden stämmer inte överens.")
    return first


def main(argv: list[str] | None = None) -> int:
    from assistant.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m assistant.app.users", description="Hantera lokala konton för appen.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO")
    add = sub.add_parser("add", help="Lägg till ett konto eller byt lösenord och roll.")
    add.add_argument("name", help="Användarnamn.")
    add.add_argument("--role", choices=ROLES, required=True, help="chef eller strateg.")
    add.add_argument("--password-stdin", action="store_true", help="Läs lösenordet från standard in (för skript).")
    sub.add_parser("list", help="Visa kontona.")
    rm = sub.add_parser("remove", help="Ta bort ett konto.")
    rm.add_argument("name")
    args = parser.parse_args(argv)
    store = AccountStore(Settings().accounts_path)
    try:
        if args.command == "add":
            account = store.add(args.name, args.role, _read_password(args))
            print(f"Kontot {account.name} ({account.role}) är sparat i {store.path}.")
        elif args.command == "list":
            accounts = store.accounts()
            if not accounts:
                print(f"Inga konton i {store.path}. Appen körs i utvecklingsläge utan inloggning.")
            for a in accounts:
                print(f"{a.name}\t{a.role}")
        elif args.command == "remove":
            if not store.remove(args.name):
                print(f"Det finns inget konto som heter '{args.name}'.", file=sys.stderr)
                return 1
            print(f"Kontot {args.name} är borttaget.")
    except AssistantError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
