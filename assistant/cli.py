"""`python -m assistant ask "MESSAGE" [--json] [--history FILE]`: ask from the command line.

With --history the conversation continues across calls: FILE holds a JSON list
of {"message": ..., "answer": Answer.to_record()} and the new exchange is
appended to it. With --json the Answer is printed as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.answer import Answer, Turn
from assistant.errors import AssistantError
from assistant.text import clean_message

NO_INDEX = "Indexet är tomt. Läs in vägledningen först med `make index` (eller `python ingest.py`)."


def add_ask_parser(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help="Ställ en fråga eller beskriv ett initiativ.", description="Ställ en fråga eller beskriv ett initiativ.")
    ask.add_argument("message", help="Meddelandet, till exempel ett initiativ eller en fråga om vägledningen.")
    ask.add_argument("--json", action="store_true", help="Skriv svaret som JSON på sista raden.")
    ask.add_argument("--history", type=Path, metavar="FIL", help="JSON-fil med samtalet; svaret läggs till i filen.")
    ask.set_defaults(handler=run_ask)


def read_history(path: Path | None) -> list[Turn]:
    if path is None or not path.exists() or not path.read_text(encoding="utf-8").strip():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Turn(item["message"], Answer.from_record(item["answer"])) for item in data]
    except (ValueError, KeyError, TypeError) as exc:
        raise AssistantError(f"Samtalsfilen {path} kunde inte läsas ({exc}). Den ska vara en JSON-lista med message och answer.") from exc


def write_history(path: Path, turns: list[Turn]) -> None:
    data = [{"message": t.message, "answer": t.answer.to_record()} for t in turns]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def render(answer: Answer) -> str:
    """The answer as a person reads it: text, then the sources its [n] point to."""
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Källor:"]
        for c in answer.citations:
            where = ", ".join(x for x in (c.section and f"avsnitt ”{c.section}”", c.page and f"sidan {c.page}") if x)
            lines.append(f"[{c.n}] {c.title}" + (f" – {where}" if where else "") + f" ({c.document_id})")
            lines.append(f"    ”{c.quote}”")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    from assistant.pipeline import Pipeline
    from assistant.settings import Settings

    settings = Settings()
    args.message = clean_message(args.message)  # undecodable bytes in argv arrive as lone surrogates
    pipeline = Pipeline.from_settings(settings)
    try:
        if pipeline.index.is_empty():
            print(NO_INDEX, file=sys.stderr)
            return 2
        history = read_history(args.history)
        answer = pipeline.ask(args.message, history)
        if args.history is not None:
            write_history(args.history, [*history, Turn(args.message, answer)])
    except AssistantError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    finally:
        pipeline.index.close()
    print(render(answer))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    return 0
