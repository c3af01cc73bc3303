"""The coach: picks the right questions for an initiative, and routes every other kind of message.

Initiatives get 5–8 questions from the bank. A question scores for the
dimensions the initiative touches, for its triggers found in the message, and
loses weight when the description already addresses its dimension; one
question per dimension first, so the set covers several angles. Each question
carries its why and a citation to the sentence of its source section that
best fits it.
"""

from __future__ import annotations

from assistant.answer import Answer, CoachingQuestion, Gaps, Turn
from assistant.coaching.compose import INJECTION_NOTE, NUMBER_WORDS, Composer
from assistant.coaching.dimensions import addressed, is_digital, touched
from assistant.coaching.evidence import Citations, Scorer, Sources
from assistant.ingestion.index import Index
from assistant.coaching.intent import Intent, classify
from assistant.coaching.questionbank import Question, QuestionBank
from assistant.coaching.retriever import Retriever
from assistant.text import content_tokens, stem

ENGLISH_NOTE = "(Svaren ges på svenska, eftersom vägledningen och frågebanken är skrivna på svenska.)"


class Coach:
    def __init__(self, bank: QuestionBank, index: Index, retriever: Retriever, n_questions: int = 6) -> None:
        if not 5 <= n_questions <= 8:
            raise ValueError(f"n_questions must be between 5 and 8, got {n_questions}")
        self.bank = bank
        self.index = index
        self.retriever = retriever
        self.n_questions = n_questions
        self.sources = Sources(index)
        self.composer = Composer(bank, index, retriever, self.sources)
        # A trigger shared by many questions ("verksamhetssystem") says less than a rare one ("hemtjänst").
        freq: dict[str, int] = {}
        for q in bank.questions:
            for t in q.trigger_stems:
                freq[t] = freq.get(t, 0) + 1
        self._trigger_weight = {t: 3.0 / (n ** 0.5) for t, n in freq.items()}

    def warm_up(self) -> None:
        """Load the model, the lexical index, the glossary and Chroma's segment so the first answer is fast."""
        self.retriever.retrieve("nyttorealisering och ledningsgruppens ansvar")
        self.sources.glossary()

    # -- routing -------------------------------------------------------
    def respond(self, message: str, history: list[Turn]) -> Answer:
        intent = classify(message, has_history=bool(history))
        answer = self._route(intent, history)
        if intent.english and answer.kind != "empty":
            answer = Answer(**{**answer.__dict__, "text": f"{ENGLISH_NOTE}\n\n{answer.text}"})
        return answer

    def _route(self, intent: Intent, history: list[Turn]) -> Answer:
        if intent.kind == "empty":
            return self.composer.empty()
        if intent.kind == "out_of_scope":
            return self.composer.refuse(intent)
        if intent.kind == "followup":
            found = self.composer.followup(intent, history)
            if found is not None:
                return found
        if intent.term:
            found = self.composer.define(intent)
            if found is not None:
                return found
        if intent.kind == "initiative":
            return self.initiative(intent)
        answer = self.composer.question(intent)
        # A description that the guidance cannot answer as a question may still be an initiative
        # ("Vi har testat läkemedelsrobotar i hemtjänsten") that deserves the right questions.
        if answer.refused and not intent.text.rstrip().endswith("?") and is_digital(self.words(intent.query)):
            return self.initiative(intent)
        return answer

    # -- initiatives ---------------------------------------------------
    def words(self, text: str) -> list[str]:
        split = self.index.lexical.decompounder.split
        tokens = content_tokens(text)
        hyphen_parts = [p for t in tokens if "-" in t for p in t.split("-") if p]
        return [*tokens, *hyphen_parts, *(p for t in tokens for p in split(t))]

    def initiative(self, intent: Intent) -> Answer:
        words = self.words(intent.query)
        if not is_digital(words):  # "Vi ska bygga en ny simhall": answer from the guidance if it covers it
            return self.composer.question(intent)
        touches = touched(words)
        said = addressed(self.words(intent.text), intent.text)
        picked = self.select(words, touches, said, intent.query)
        cites = Citations()
        retrieval = self.retriever.retrieve(intent.query)
        cites.note_retrieved(retrieval.chunk_ids)
        questions = [self.composer.cite_question(q, intent.query, cites) for q in picked]
        missing = sorted((d.id for d in self.bank.dimensions if d.id not in said), key=lambda d: -touches.get(d, 0))
        gaps = Gaps(addressed=said, missing=missing)
        text = self.initiative_text(questions, gaps)
        if intent.injection:
            text = f"{INJECTION_NOTE}\n\n{text}"
        return Answer(text=text, questions=questions, citations=cites.items, gaps=gaps, kind="initiative",
                      retrieved=cites.retrieved)

    @staticmethod
    def trigger_hits(q: Question, stems: set[str]) -> set[str]:
        """Triggers found in the message. Prefixes, because the Swedish stemmer leaves
        "upphandling" and "skolan" whole while "upphandla" and "skola" lose their endings."""
        return {t for t in q.trigger_stems if t in stems or (len(t) >= 4 and any(s.startswith(t) or (len(s) >= 5 and t.startswith(s)) for s in stems))}

    def score(self, q: Question, stems: set[str], touches: dict[str, int], said: list[str]) -> float:
        score = 3.0 * min(touches.get(q.dimension, 0), 2)
        score += sum(self._trigger_weight.get(t, 1.0) for t in self.trigger_hits(q, stems))
        score += 1.0 if q.always else 0.0
        score -= 2.5 if q.dimension in said else 0.0
        return score

    def select(self, words: list[str], touches: dict[str, int], said: list[str], query: str) -> list[Question]:
        stems = {stem(w) for w in words}
        scorer = Scorer(self.index, query)
        ranked = sorted(
            self.bank.questions,
            key=lambda q: (-(self.score(q, stems, touches, said) + 0.05 * scorer.score(q.text + " " + q.why)), q.id),
        )
        picked: list[Question] = []
        for round_cap in (1, 2, 3):  # one per dimension first, so the set covers several angles
            for q in ranked:
                if len(picked) == self.n_questions:
                    return picked
                if q not in picked and sum(p.dimension == q.dimension for p in picked) < round_cap:
                    if round_cap == 1 or self.score(q, stems, touches, said) > 0:
                        picked.append(q)
        return picked

    def initiative_text(self, questions: list[CoachingQuestion], gaps: Gaps) -> str:
        count = NUMBER_WORDS.get(len(questions), str(len(questions)))
        lines = [f"Här är {count} frågor som ledningsgruppen bör ställa om initiativet:", ""]
        for i, q in enumerate(questions, start=1):
            refs = "".join(f" [{n}]" for n in q.citations)
            lines.append(f"{i}. {q.text}")
            lines.append(f"   Varför: {q.why}{refs}")
        lines.append("")
        names = [self.bank.dimension_name(d) for d in gaps.missing]
        if gaps.addressed:
            said = [self.bank.dimension_name(d) for d in gaps.addressed]
            lines.append(f"Det här tar beskrivningen redan upp: {_join(said)}.")
        if names:
            lines.append(f"Det här säger beskrivningen ännu inget om, viktigast först: {_join(names)}.")
        return "\n".join(lines)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]
