"""Gold cases: JSON Lines, one case a line, read from a file or a folder of files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("initiative", "question", "out_of_scope")
_FIELDS = {"id", "kind", "message", "expected_sources", "expected_dimensions", "key_points", "expect_refusal", "reference"}


class GoldError(ValueError):
    """A gold file a person must fix; the message says where."""


@dataclass(frozen=True)
class GoldCase:
    id: str
    kind: str
    message: str
    expected_sources: list[str] = field(default_factory=list)
    expected_dimensions: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    expect_refusal: bool | None = None
    reference: str | None = None

    @classmethod
    def from_dict(cls, data: dict, where: str) -> GoldCase:
        unknown = set(data) - _FIELDS
        if unknown:
            raise GoldError(f"{where}: okända fält {sorted(unknown)}")
        for name in ("id", "kind", "message"):
            if not isinstance(data.get(name), str):
                raise GoldError(f"{where}: fältet '{name}' saknas eller är inte text")
        if data["kind"] not in KINDS:
            raise GoldError(f"{where}: kind måste vara en av {', '.join(KINDS)}, fick {data['kind']!r}")
        for name in ("expected_sources", "expected_dimensions", "key_points"):
            value = data.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise GoldError(f"{where}: '{name}' måste vara en lista med text, fick {value!r}")
        refusal = data.get("expect_refusal")
        if refusal is not None and not isinstance(refusal, bool):
            raise GoldError(f"{where}: 'expect_refusal' måste vara true eller false, fick {refusal!r}")
        return cls(**data)


def gold_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise GoldError(f"Mappen {path} innehåller inga .jsonl-filer.")
        return files
    if not path.exists():
        raise GoldError(f"Hittar inte guldfilen {path}.")
    return [path]


def load_gold(path: Path) -> list[GoldCase]:
    """All cases under `path`, in file order. Ids must be unique across files."""
    cases: list[GoldCase] = []
    seen: dict[str, str] = {}
    for file in gold_files(Path(path)):
        for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file.name} rad {lineno}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldError(f"{where}: ogiltig JSON ({exc.msg})") from exc
            if not isinstance(data, dict):
                raise GoldError(f"{where}: varje rad ska vara ett JSON-objekt")
            case = GoldCase.from_dict(data, where)
            if case.id in seen:
                raise GoldError(f"{where}: id '{case.id}' finns redan ({seen[case.id]})")
            seen[case.id] = where
            cases.append(case)
    if not cases:
        raise GoldError(f"Inga fall hittades i {path}.")
    return cases
