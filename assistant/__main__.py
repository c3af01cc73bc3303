"""`python -m assistant SUBCOMMAND`: the command line of Rätt frågor."""

from __future__ import annotations

import argparse
import sys

from assistant.boundary import guarded
from assistant.cli import add_ask_parser
from assistant.logging_setup import configure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Rätt frågor på kommandoraden.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO")
    add_ask_parser(sub)
    args = parser.parse_args(argv)
    configure()
    return guarded(lambda: int(args.handler(args)), "python -m assistant")


if __name__ == "__main__":
    sys.exit(main())
