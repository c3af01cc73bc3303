"""Gold cases: JSON Lines, one case a line, read from a file or a folder tree of such files.

A folder is read recursively. A case's *split* is the name of the folder it
lies in when that is `dev` or `test` (else None), and its *set* is the file's
stem (`sections`, `paraphrases`, …). Besides `.jsonl` files a folder may hold
`*.external.yaml` files that point at a data set read in place (see
`evals.external`), so that data licensed elsewhere is never copied into the
project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

KINDS = ("initiative", "question", "followup", "out_of_scope", "empty")
SPLITS = ("dev", "test")
VARIANTS = ("plain", "careless", "injected")
_LISTS = ("expected_sources", "expected_dimensions", "key_points", "expected_signs", "expected_questions", "history")
_TEXTS = ("reference", "expected_section", "variant_of", "variant", "origin")
_FIELDS = {"id", "kind", "message", "expect_refusal", *_LISTS, *_TEXTS}


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
    history: list[str] = field(default_factory=list)  # earlier messages of the conversation, oldest first
    expected_section: str | None = None  # section questions: the heading the answer should come from
    expected_signs: list[str] = field(default_factory=list)  # seed scenarios: warning-sign ids
    expected_questions: list[str] = field(default_factory=list)  # question-bank ids, any of which should be asked
    variant_of: str | None = None  # paraphrases and injected variants: the id of the original case
    variant: str | None = None  # plain | careless | injected
    origin: str | None = None  # where the case came from, when not written by the team
    split: str | None = None  # dev | test, from the folder
    set: str = ""  # the file's stem

    @property
    def in_scope(self) -> bool:
        """Whether the guidance should answer (initiatives, questions, follow-ups) rather than decline."""
        return not self.expect_refusal and self.kind in ("initiative", "question", "followup")

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
        for name in _LISTS:
            value = data.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise GoldError(f"{where}: '{name}' måste vara en lista med text, fick {value!r}")
        for name in _TEXTS:
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise GoldError(f"{where}: '{name}' måste vara text, fick {value!r}")
        if data.get("variant") is not None and data["variant"] not in VARIANTS:
            raise GoldError(f"{where}: variant måste vara en av {', '.join(VARIANTS)}, fick {data['variant']!r}")
        if (data.get("variant") is None) != (data.get("variant_of") is None):
            raise GoldError(f"{where}: 'variant' och 'variant_of' anges tillsammans")
        refusal = data.get("expect_refusal")
        if refusal is not None and not isinstance(refusal, bool):
            raise GoldError(f"{where}: 'expect_refusal' måste vara true eller false, fick {refusal!r}")
        return cls(**data)


def gold_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.name.endswith((".jsonl", ".external.yaml")))
        if not files:
            raise GoldError(f"Mappen {path} innehåller inga .jsonl-filer.")
        return files
    if not path.exists():
        raise GoldError(f"Hittar inte guldfilen {path}.")
    return [path]


def _split_of(file: Path) -> str | None:
    return next((part for part in reversed(file.parent.parts) if part in SPLITS), None)


def _set_of(file: Path) -> str:
    return file.name.removesuffix(".external.yaml").removesuffix(".jsonl")


def read_cases(file: Path) -> list[GoldCase]:
    """The cases of one file, with split and set filled in."""
    split, set_name = _split_of(file), _set_of(file)
    if file.name.endswith(".external.yaml"):
        from evals.external import read_external

        return [replace(c, split=split, set=set_name) for c in read_external(file, split)]
    cases = []
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
        cases.append(replace(GoldCase.from_dict(data, where), split=split, set=set_name))
    return cases


def load_gold(path: Path) -> list[GoldCase]:
    """All cases under `path`, in file order (dev before test). Ids must be unique across files."""
    cases: list[GoldCase] = []
    seen: dict[str, str] = {}
    files = gold_files(Path(path))
    files.sort(key=lambda f: (SPLITS.index(_split_of(f)) if _split_of(f) else -1, str(f)))
    for file in files:
        for case in read_cases(file):
            if case.id in seen:
                raise GoldError(f"{file.name}: id '{case.id}' finns redan ({seen[case.id]})")
            seen[case.id] = file.name
            cases.append(case)
    by_id = {c.id: c for c in cases}
    for case in cases:
        original = by_id.get(case.variant_of or "")
        if case.variant_of and original is None:
            raise GoldError(f"{case.set}: '{case.id}' är en variant av '{case.variant_of}', som inte finns")
        if original is not None and original.split != case.split:
            raise GoldError(f"'{case.id}' ligger i {case.split} men originalet '{original.id}' i {original.split}")
    if not cases:
        raise GoldError(f"Inga fall hittades i {path}.")
    return cases
