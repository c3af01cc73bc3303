"""The Answer the app, the CLI and the evaluation all use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Mode = Literal["offline", "llm", "fallback"]
Kind = Literal["initiative", "question", "followup", "out_of_scope", "empty"]
Coverage = Literal["covered", "related", "none"]  # answered from the guidance, closest guidance only, nothing


@dataclass(frozen=True)
class Citation:
    n: int
    document_id: str
    title: str
    page: int | None
    section: str | None
    quote: str
    chunk_id: str = ""  # the retrieved chunk the quote comes from; not part of the public JSON


@dataclass(frozen=True)
class CoachingQuestion:
    id: str
    dimension: str
    text: str
    why: str
    citations: list[int] = field(default_factory=list)  # the n of entries in Answer.citations


@dataclass(frozen=True)
class WarningSign:
    """A warning sign of the seed article that the description shows."""

    id: str
    name: str
    text: str  # one sentence for the chef, "Varningssignal: …"
    citations: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Gaps:
    addressed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    short: bool = False  # the description is too short to say what it leaves out


@dataclass(frozen=True)
class Answer:
    text: str
    mode: Mode = "offline"
    refused: bool = False
    questions: list[CoachingQuestion] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    gaps: Gaps = field(default_factory=Gaps)
    signs: list[WarningSign] = field(default_factory=list)
    coverage: Coverage = "covered"
    kind: Kind = "question"  # internal: how the message was understood
    retrieved: list[str] = field(default_factory=list)  # internal: chunk ids the retriever returned, best first
    body: str = ""  # internal: the grounded answer to a question (quotes with [n]), without fixed texts
    removed_sentences: int = 0  # internal: model sentences the verifier removed (shown to a strateg, not the chef)
    model_sentences: int = 0  # internal: sentences the model wrote (text and tailored whys), for measurement

    def citation(self, n: int) -> Citation | None:
        return next((c for c in self.citations if c.n == n), None)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON form, with exactly the documented field names."""
        return {
            "text": self.text,
            "mode": self.mode,
            "refused": self.refused,
            "questions": [asdict(q) for q in self.questions],
            "citations": [{k: v for k, v in asdict(c).items() if k != "chunk_id"} for c in self.citations],
            "gaps": asdict(self.gaps),
            "signs": [asdict(s) for s in self.signs],
            "coverage": self.coverage,
        }

    def to_record(self) -> dict[str, Any]:
        """Everything, for conversation history files and the feedback store."""
        return {**self.to_dict(), "kind": self.kind, "retrieved": list(self.retrieved), "body": self.body,
                "citations": [asdict(c) for c in self.citations], "removed_sentences": self.removed_sentences,
                "model_sentences": self.model_sentences}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Answer:
        return cls(
            text=data["text"],
            mode=data.get("mode", "offline"),
            refused=bool(data.get("refused", False)),
            questions=[CoachingQuestion(**q) for q in data.get("questions", [])],
            citations=[Citation(**c) for c in data.get("citations", [])],
            gaps=Gaps(**data.get("gaps", {})),
            signs=[WarningSign(**s) for s in data.get("signs", [])],
            coverage=data.get("coverage", "none" if data.get("refused") else "covered"),
            kind=data.get("kind", "question"),
            retrieved=list(data.get("retrieved", [])),
            body=str(data.get("body", "")),
            removed_sentences=int(data.get("removed_sentences", 0)),
            model_sentences=int(data.get("model_sentences", 0)),
        )


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: what the chef wrote and what was answered."""

    message: str
    answer: Answer
