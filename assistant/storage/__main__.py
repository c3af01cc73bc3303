"""`python -m assistant.storage upgrade`: migrate the database in ASSISTANT_DATABASE_URL to the newest schema."""

from __future__ import annotations

import sys

from assistant.errors import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["upgrade"]:
        print("Användning: python -m assistant.storage upgrade", file=sys.stderr)
        return 2
    from assistant.settings import Settings
    from assistant.storage import database

    settings = Settings()
    if settings.database_url is None:
        print("ASSISTANT_DATABASE_URL är inte satt: allt ligger i SQLite-filer under "
              f"{settings.data_dir}, och de behöver ingen migrering.")
        return 0
    url = settings.database_url.get_secret_value()
    try:
        engine = database.engine_for(url)  # migrates to the newest revision on the way
        print(f"Databasen {database.shown(database.normalise(url))} har schemaversion {database.revision(engine)}.")
    except ConfigurationError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
