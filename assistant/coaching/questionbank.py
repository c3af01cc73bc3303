"""The bank of right questions (corpus/fragebank.yaml), loaded and validated.

Someone who is not a developer edits the YAML file, so every validation error
says in Swedish which question and which field is wrong, with the bad value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.errors import ConfigurationError

DIMENSION_IDS = (
    "mal-och-nytta", "agarskap-och-ansvar", "processer-och-arbetssatt", "forandringsledning-och-kultur",
    "kompetens-och-larande", "styrning-och-uppfoljning", "data-och-samverkan", "forvaltning-och-arv",
    "juridik-och-sakerhet", "risk-och-genomforande",
)
SITUATIONS = (2, 5)  # how many example situations each question has
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class QuestionBankError(ConfigurationError):
    """The question bank file is missing or malformed; the message says where."""


@dataclass(frozen=True)
class Source:
    document: str
    heading: str


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    dimension: str
    text: str
    why: str
    situations: tuple[str, ...]  # short initiatives, in a chef's words, where this is the question to ask
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class QuestionBank:
    dimensions: tuple[Dimension, ...]
    questions: tuple[Question, ...]

    @classmethod
    def load(cls, path: Path) -> QuestionBank:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise QuestionBankError(f"Frågebanken finns inte: {path}. Ange rätt fil i ASSISTANT_QUESTION_BANK.") from exc
        except yaml.YAMLError as exc:
            raise QuestionBankError(f"Frågebanken {path} är inte giltig YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise QuestionBankError(f"Frågebanken {path} ska ha nycklarna 'dimensions' och 'questions'.")
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: dict, where: str = "frågebanken") -> QuestionBank:
        dims = [_dimension(d, i, where) for i, d in enumerate(raw.get("dimensions") or [])]
        ids = [d.id for d in dims]
        if sorted(ids) != sorted(DIMENSION_IDS):
            unknown = sorted(set(ids) - set(DIMENSION_IDS))
            absent = sorted(set(DIMENSION_IDS) - set(ids))
            raise QuestionBankError(
                f"I {where} ska dimensionerna vara exakt {', '.join(DIMENSION_IDS)}. "
                f"Okända: {unknown or 'inga'}; saknas: {absent or 'inga'}; dubbletter: "
                f"{sorted({i for i in ids if ids.count(i) > 1}) or 'inga'}."
            )
        questions: list[Question] = []
        seen: set[str] = set()
        for i, item in enumerate(raw.get("questions") or []):
            q = _question(item, i, where, set(ids))
            if q.id in seen:
                raise QuestionBankError(f"I {where} finns frågan med id '{q.id}' mer än en gång; id måste vara unika.")
            seen.add(q.id)
            questions.append(q)
        if not questions:
            raise QuestionBankError(f"{where} innehåller inga frågor under 'questions'.")
        return cls(tuple(dims), tuple(questions))

    # -- lookups -------------------------------------------------------
    def dimension_name(self, dimension_id: str) -> str:
        return next((d.name for d in self.dimensions if d.id == dimension_id), dimension_id)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def in_dimension(self, dimension_id: str) -> list[Question]:
        return [q for q in self.questions if q.dimension == dimension_id]

    def counts(self) -> dict[str, int]:
        return {d.id: len(self.in_dimension(d.id)) for d in self.dimensions}


def _text(item: dict, key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise QuestionBankError(f"{what} saknar fältet '{key}' (en text), fick {value!r}.")
    return value.strip()


def _dimension(item: object, i: int, where: str) -> Dimension:
    what = f"Dimension nummer {i + 1} i {where}"
    if not isinstance(item, dict):
        raise QuestionBankError(f"{what} ska ha fälten id, name och description, fick {item!r}.")
    return Dimension(_text(item, "id", what), _text(item, "name", what), str(item.get("description") or ""))


def _question(item: object, i: int, where: str, dimension_ids: set[str]) -> Question:
    what = f"Fråga nummer {i + 1} i {where}"
    if not isinstance(item, dict):
        raise QuestionBankError(f"{what} ska vara en post med id, dimension, text, why, situations och sources.")
    qid = _text(item, "id", what)
    what = f"Frågan '{qid}' i {where}"
    if not _ID_RE.match(qid):
        raise QuestionBankError(f"{what} har ett ogiltigt id; använd små bokstäver a–z, siffror och bindestreck.")
    dimension = _text(item, "dimension", what)
    if dimension not in dimension_ids:
        raise QuestionBankError(f"{what} har dimensionen '{dimension}', som inte finns. Välj en av: {', '.join(sorted(dimension_ids))}.")
    situations = item.get("situations")
    low, high = SITUATIONS
    if (not isinstance(situations, list) or not low <= len(situations) <= high
            or not all(isinstance(s, str) and s.strip() for s in situations)):
        raise QuestionBankError(f"{what} behöver {low}–{high} situations (korta exempel på initiativ där frågan är "
                                f"den rätta, med en chefs ord), fick {situations!r}.")
    sources_raw = item.get("sources")
    if not isinstance(sources_raw, list) or not sources_raw:
        raise QuestionBankError(f"{what} behöver minst en källa under 'sources' (document och heading), fick {sources_raw!r}.")
    sources = []
    for s in sources_raw:
        if not isinstance(s, dict):
            raise QuestionBankError(f"{what} har en källa som inte är document + heading: {s!r}.")
        sources.append(Source(_text(s, "document", what + " (källa)"), _text(s, "heading", what + " (källa)")))
    return Question(qid, dimension, _text(item, "text", what), _text(item, "why", what),
                    tuple(s.strip() for s in situations), tuple(sources))
