"""Local accounts with scrypt-hashed passwords, and their command line.

`python -m assistant.app.users add NAME --role strateg` (the password is prompted,
or read from stdin with --password-stdin), `list`, `remove NAME`. The file is
JSON under data_dir (ASSISTANT_ACCOUNTS_FILE to move it); it holds only salts
and hashes, never a password. Once the file exists it stays, even when the last
account is removed: an empty file means nobody can sign in, never "no sign-in".
With ASSISTANT_DATABASE_URL set, the accounts are in that database instead
(`SqlAccountStore`; `account_store` picks), shared by every app server.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import getpass
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from assistant.app.stores import database_url
from assistant.errors import AssistantError
from assistant.storage import database, schema

log = logging.getLogger(__name__)
Role = Literal["chef", "strateg"]
ROLES: tuple[Role, ...] = ("chef", "strateg")
_NAME_RE = re.compile(r"^[\w.@-]{1,64}$")
# OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1 (128 MiB per hash).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
_MAX_SCRYPT_BYTES = 1 << 30  # a hash in the file may not ask for more memory than this
_MAX_SCRYPT_P = 16  # nor for more than this many rounds of work
MIN_PASSWORD = 8
ADD_HINT = "python -m assistant.app.users add NAMN --role strateg"


class AccountsFileError(AssistantError):
    """The accounts file exists but cannot be read; nobody can sign in until it is fixed."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    password: str  # "scrypt$n$r$p$salt-hex$hash-hex"


def _scrypt_maxmem(n: int, r: int, p: int) -> int:
    # OpenSSL needs 128*r*(n+2) bytes for V and 128*r*p for B; a little room on top.
    return 128 * r * (n + 2 + p) + (1 << 20)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_scrypt_maxmem(n, r, p), dklen=32)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A new hash at today's cost (read at call time, so tests can lower it with a fixture)."""
    salt = salt or secrets.token_bytes(16)
    n, r, p = SCRYPT_N, SCRYPT_R, SCRYPT_P
    return f"scrypt${n}${r}${p}${salt.hex()}${_scrypt(password, salt, n, r, p).hex()}"


def _params(stored: str) -> tuple[int, int, int, bytes, str] | None:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        params = int(n), int(r), int(p)
        if (scheme != "scrypt" or min(params) < 1 or params[2] > _MAX_SCRYPT_P
                or 128 * params[0] * params[1] > _MAX_SCRYPT_BYTES):
            return None
        return (*params, bytes.fromhex(salt), digest)
    except (ValueError, TypeError, AttributeError):
        return None


def check_password(password: str, stored: str) -> bool:
    parsed = _params(stored)
    if parsed is None:
        return False
    n, r, p, salt, digest = parsed
    try:
        got = _scrypt(password, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """True for a hash made with other parameters than today's (it is upgraded at the next sign-in)."""
    parsed = _params(stored)
    return parsed is None or parsed[:3] != (SCRYPT_N, SCRYPT_R, SCRYPT_P)


def _parse(raw: object) -> list[Account]:
    if not isinstance(raw, list):
        raise ValueError("filen ska innehålla en lista med konton")
    accounts = []
    for k, item in enumerate(raw, start=1):
        if not (isinstance(item, dict) and set(item) == {"name", "role", "password"}
                and all(isinstance(v, str) for v in item.values())):
            raise ValueError(f"konto nummer {k} ska ha exakt fälten name, role och password som text")
        if item["role"] not in ROLES:
            raise ValueError(f"kontot '{item['name']}' har den okända rollen '{item['role']}'")
        accounts.append(Account(**item))
    return accounts


def _new_account(name: str, role: str, password: str) -> Account:
    """A checked account with a fresh hash; AssistantError (Swedish) for a bad name, role or short password."""
    if not _NAME_RE.match(name):
        raise AssistantError(f"Ogiltigt användarnamn '{name}': använd bokstäver, siffror, punkt, @, - eller _.")
    if role not in ROLES:
        raise AssistantError(f"Okänd roll '{role}'. Välj chef eller strateg.")
    if len(password) < MIN_PASSWORD:
        raise AssistantError(f"Lösenordet måste ha minst {MIN_PASSWORD} tecken.")
    return Account(name, role, hash_password(password))  # type: ignore[arg-type]


def _verify(store: AccountStore | SqlAccountStore, name: str, password: str) -> Account | None:
    """The account if the password is right (either store); an old-parameter hash is upgraded on the way."""
    account = store.get(name.strip())
    if account is None:
        hash_password(password)  # same work either way, so timing does not reveal which names exist
        return None
    if not check_password(password, account.password):
        return None
    if needs_rehash(account.password):
        store._upgrade(account, password)
    return account


class AccountStore:
    """The accounts file. Each change rewrites it atomically under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        """Whether accounts have ever been set up here (the file survives removing the last account)."""
        return self.path.exists()

    def accounts(self) -> list[Account]:
        """All accounts; AccountsFileError (Swedish) if the file is unreadable or malformed."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except UnicodeDecodeError:
            raise self._broken("den är inte text i UTF-8") from None
        except OSError as exc:
            raise self._broken(f"den kan inte öppnas: {exc.strerror or exc}") from None
        try:
            return _parse(json.loads(text))
        except json.JSONDecodeError as exc:
            raise self._broken(f"ogiltig JSON på rad {exc.lineno}, kolumn {exc.colno}") from exc
        except ValueError as exc:
            raise self._broken(str(exc)) from exc

    def _broken(self, reason: str) -> AccountsFileError:
        return AccountsFileError(
            f"Kontofilen {self.path} går inte att läsa: {reason}. Ingen kan logga in förrän den är rättad. "
            f"Återställ filen från en säkerhetskopia, eller flytta undan den och lägg till kontona igen med "
            f"`{ADD_HINT}`."
        )

    def get(self, name: str) -> Account | None:
        return next((a for a in self.accounts() if a.name == name), None)

    def add(self, name: str, role: str, password: str) -> Account:
        account = _new_account(name, role, password)
        with self._locked():
            others = [a for a in self.accounts() if a.name != name]
            self._write([*others, account])
        return account

    def remove(self, name: str) -> bool:
        with self._locked():
            accounts = self.accounts()
            kept = [a for a in accounts if a.name != name]
            if len(kept) == len(accounts):
                return False
            self._write(kept)  # an empty list is written, never the file removed: sign-in stays closed
        return True

    def verify(self, name: str, password: str) -> Account | None:
        """The account if the password is right; an old-parameter hash is upgraded on the way."""
        return _verify(self, name, password)

    def _upgrade(self, account: Account, password: str) -> None:
        upgraded = hash_password(password)
        try:
            with self._locked():
                accounts = self.accounts()
                # Only if nobody changed the account meanwhile (a new password or role from the command line).
                if account in accounts:
                    self._write([replace(a, password=upgraded) if a == account else a for a in accounts])
                    log.info("password hash of %s upgraded to scrypt N=%d r=%d p=%d", account.name, SCRYPT_N,
                             SCRYPT_R, SCRYPT_P)
        except OSError:  # a read-only file still lets the person in; the upgrade is tried again next time
            log.warning("could not upgrade the password hash of %s in %s", account.name, self.path, exc_info=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, also across processes (the app and the command line)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, accounts: list[Account]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps([asdict(a) for a in accounts], ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)


ACCOUNTS_CREATED = "accounts_created"  # app_meta key: set by the first account ever added, never removed


class SqlAccountStore:
    """The accounts in the database of ASSISTANT_DATABASE_URL, shared by every app server and the command line.

    `exists` is true once an account was ever added (a flag in app_meta that stays), so removing the last account
    keeps sign-in closed exactly as the file does. Every change is one statement in its own transaction, atomic
    in PostgreSQL: an upsert (INSERT … ON CONFLICT DO UPDATE) to add or change, a DELETE to remove, and for the
    hash upgrade an UPDATE that only matches while the row is still the one that was verified. Two servers or
    the command line therefore never lose each other's changes. A database that cannot be used gives
    AccountsFileError (Swedish), like an unreadable file: nobody signs in until it works again.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = f"databasen {database.shown(url)}"  # where the accounts are, for messages
        self._engine: Engine | None = None

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Connection]:
        try:
            if self._engine is None:
                self._engine = database.engine_for(self.url)
            with database.connection(self._engine, self.url) as conn:
                yield conn
        except database.DatabaseUnavailable as exc:
            raise AccountsFileError(f"Kontona går inte att läsa, så ingen kan logga in förrän databasen fungerar "
                                    f"igen. {exc}") from exc
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0][:300]
            raise AccountsFileError(f"Kontona i {self.path} går inte att läsa eller ändra ({reason}). Ingen kan "
                                    f"logga in förrän det är rättat; kör `python -m assistant.storage upgrade` "
                                    f"om tabellerna saknas.") from exc

    def exists(self) -> bool:
        """Whether an account was ever added here (removing the last one does not reopen sign-in)."""
        meta = schema.app_meta
        with self._conn() as conn:
            return conn.execute(select(meta.c.key).where(meta.c.key == ACCOUNTS_CREATED)).first() is not None

    def accounts(self) -> list[Account]:
        """All accounts by name; AccountsFileError (Swedish) if the database cannot be read."""
        t = schema.accounts
        with self._conn() as conn:
            rows = conn.execute(select(t.c.name, t.c.role, t.c.password).order_by(t.c.name)).all()
        for name, role, _ in rows:
            if role not in ROLES:
                raise AccountsFileError(f"Kontot '{name}' i {self.path} har den okända rollen '{role}'. Ingen kan "
                                        f"logga in förrän det är rättat: lägg till kontot igen med `{ADD_HINT}`.")
        return [Account(*row) for row in rows]

    def get(self, name: str) -> Account | None:
        t = schema.accounts
        with self._conn() as conn:
            row = conn.execute(select(t.c.name, t.c.role, t.c.password).where(t.c.name == name)).first()
        if row is None:
            return None
        if row[1] not in ROLES:
            raise AccountsFileError(f"Kontot '{name}' i {self.path} har den okända rollen '{row[1]}'.")
        return Account(*row)

    def add(self, name: str, role: str, password: str) -> Account:
        account = _new_account(name, role, password)
        t, meta = schema.accounts, schema.app_meta
        upsert = pg_insert(t).values(name=account.name, role=account.role, password=account.password)
        upsert = upsert.on_conflict_do_update(index_elements=[t.c.name], set_={
            "role": upsert.excluded.role, "password": upsert.excluded.password})
        with self._conn() as conn:
            conn.execute(upsert)
            conn.execute(pg_insert(meta).values(key=ACCOUNTS_CREATED, value=datetime.now(timezone.utc).isoformat(
                timespec="seconds")).on_conflict_do_nothing(index_elements=[meta.c.key]))
        return account

    def remove(self, name: str) -> bool:
        t = schema.accounts
        with self._conn() as conn:
            return conn.execute(delete(t).where(t.c.name == name)).rowcount == 1

    def verify(self, name: str, password: str) -> Account | None:
        """The account if the password is right; an old-parameter hash is upgraded on the way."""
        return _verify(self, name, password)

    def _upgrade(self, account: Account, password: str) -> None:
        upgraded = hash_password(password)
        t = schema.accounts
        try:
            with self._conn() as conn:
                # Only if nobody changed the account meanwhile (a new password or role from the command line).
                done = conn.execute(update(t).where(t.c.name == account.name, t.c.role == account.role,
                                                    t.c.password == account.password).values(password=upgraded))
        except AccountsFileError:  # the person still gets in; the upgrade is tried again next time
            log.warning("could not upgrade the password hash of %s in %s", account.name, self.path, exc_info=True)
            return
        if done.rowcount == 1:
            log.info("password hash of %s upgraded to scrypt N=%d r=%d p=%d", account.name, SCRYPT_N, SCRYPT_R,
                     SCRYPT_P)


def account_store(settings) -> AccountStore | SqlAccountStore:  # noqa: ANN001 - a Settings
    """The accounts the settings name: the shared database if ASSISTANT_DATABASE_URL is set, else the accounts
    file (ASSISTANT_ACCOUNTS_FILE, by default data_dir/accounts.json)."""
    url = database_url(settings)
    return SqlAccountStore(url) if url is not None else AccountStore(settings.accounts_path)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Lösenord: ")
    if first != getpass.getpass("Upprepa lösenordet: "):
        raise AssistantError("Lösenorden stämmer inte överens.")
    return first


def _no_accounts_note(store: AccountStore | SqlAccountStore) -> str:
    if store.exists():
        return (f"Inga konton i {store.path}. Ingen kan logga in i appen förrän ett konto läggs till med "
                f"`{ADD_HINT}`.")
    where = f"i {store.path}" if isinstance(store, SqlAccountStore) else f"({store.path} finns inte)"
    return (f"Inga konton ännu {where}. Appen körs då i utvecklingsläge utan inloggning, men "
            f"bara när den lyssnar på 127.0.0.1 (som med `make run`) eller med ASSISTANT_AUTH_MODE=none.")


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001, ANN201
        return super().add_usage(usage, actions, groups, "Användning: " if prefix is None else prefix)


_ARGPARSE_SV = [
    (re.compile(r"the following arguments are required: (.*)"), r"de här argumenten saknas: \1"),
    (re.compile(r"argument (\S+): invalid choice: (\S+) \(choose from (.*)\)"), r"\1: ogiltigt val \2 (välj bland \3)"),
    (re.compile(r"unrecognized arguments: (.*)"), r"okända argument: \1"),
    (re.compile(r"argument (\S+): expected one argument"), r"\1 behöver ett värde"),
]


class _Parser(argparse.ArgumentParser):
    """argparse with its own messages in Swedish (the common ones)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, formatter_class=_Formatter, add_help=False, **kwargs)
        self.add_argument("-h", "--help", action="help", help="Visa den här hjälpen och avsluta.")
        self._positionals.title, self._optionals.title = "argument", "flaggor"

    def error(self, message: str) -> None:  # type: ignore[override]
        for pattern, swedish in _ARGPARSE_SV:
            message = pattern.sub(swedish, message)
        self.exit(2, f"Fel: {message}. Se `{self.prog} --help`.\n")


def main(argv: list[str] | None = None) -> int:
    from assistant.settings import Settings

    parser = _Parser(prog="python -m assistant.app.users", description="Hantera lokala konton för appen.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO", parser_class=_Parser)
    add = sub.add_parser("add", help="Lägg till ett konto eller byt lösenord och roll.")
    add.add_argument("name", help="Användarnamn.")
    add.add_argument("--role", choices=ROLES, required=True, help="chef eller strateg.")
    add.add_argument("--password-stdin", action="store_true", help="Läs lösenordet från standard in (för skript).")
    sub.add_parser("list", help="Visa kontona.")
    rm = sub.add_parser("remove", help="Ta bort ett konto.")
    rm.add_argument("name")
    args = parser.parse_args(argv)
    store = account_store(Settings())  # the database is first reached inside the try below
    try:
        if args.command == "add":
            store.accounts()  # a broken file is reported before a password is asked for
            account = store.add(args.name, args.role, _read_password(args))
            print(f"Kontot {account.name} ({account.role}) är sparat i {store.path}.")
        elif args.command == "list":
            accounts = store.accounts()
            if not accounts:
                print(_no_accounts_note(store))
            for a in accounts:
                print(f"{a.name}\t{a.role}")
        elif args.command == "remove":
            if not store.remove(args.name):
                print(f"Det finns inget konto som heter '{args.name}'.", file=sys.stderr)
                return 1
            print(f"Kontot {args.name} är borttaget.")
            if not store.accounts():
                print(f"Det var det sista kontot. {_no_accounts_note(store)}")
    except AssistantError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Fel: kontofilen {store.path} gick inte att skriva eller läsa ({exc.strerror or exc}). Kontrollera "
              f"att katalogen finns och är skrivbar för den som kör kommandot.", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("\nAvbrutet; inget ändrades.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
