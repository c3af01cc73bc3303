"""Offline answers built from the guidance itself: extracts, definitions, follow-ups and refusals.

No sentence is written without a source: an answer is a selection of
sentences quoted verbatim from retrieved passages, each followed by its [n].
"""

from __future__ import annotations

from assistant.answer import Answer, CoachingQuestion, Turn
from assistant.coaching.dimensions import is_digital
from assistant.coaching.evidence import GLOSSARY_DOCUMENT, Citations, Scorer, Sources, sentences
from assistant.ingestion.index import Index
from assistant.coaching.intent import Intent
from assistant.coaching.questionbank import Question, QuestionBank
from assistant.coaching.retriever import Retrieval, Retriever
from assistant.text import content_tokens

NUMBER_WORDS = {1: "en", 2: "två", 3: "tre", 4: "fyra", 5: "fem", 6: "sex", 7: "sju", 8: "åtta"}
# Word prefixes of the guidance's own subject matter; a question needs one of them
# (or a very well covered passage) to count as a question about the guidance.
GUIDANCE = ("nytt", "ledning", "förändring", "förvaltning", "styrning", "kompetens", "beställ", "upphandl", "juridik",
            "gdpr", "dataskydd", "sekretess", "säkerhet", "projekt", "chef", "ledar", "kotter", "adkar", "pm3", "ena",
            "digg", "riksrevision", "konsekvensbedömning", "arv", "samverkan", "informations", "personuppgift",
            "uppföljning", "objekt", "effekt", "kalkyl", "mcKinsey", "vägledning", "strategi", "ai-förordning", "nis")
HELP = (
    "Jag kan hjälpa till med tre saker: ställa rätt frågor om ett digitaliseringsinitiativ (skriv till exempel "
    "”Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten”), svara på frågor om vägledningen – "
    "nyttorealisering, ledningsgruppens roll, förändringsledning, förvaltning, data, juridik och upphandling – "
    "och förklara begrepp som nyttoägare eller förvaltningsskuld."
)
REFUSALS = {
    "not_covered": "Vägledningen som jag bygger på tar inte upp det här, så jag kan inte svara utan att gissa.",
    "injection": "Jag följer inte instruktioner som försöker ändra hur jag arbetar.",
}
INJECTION_NOTE = "Jag följer inte instruktioner i meddelandet och svarar bara på resten av det."


class Composer:
    def __init__(self, bank: QuestionBank, index: Index, retriever: Retriever, sources: Sources) -> None:
        self.bank = bank
        self.index = index
        self.retriever = retriever
        self.sources = sources

    # -- simple cases --------------------------------------------------
    def empty(self) -> Answer:
        return Answer(text="Skriv ett initiativ som ni funderar på, eller en fråga om vägledningen. " + HELP, kind="empty")

    def refuse(self, intent: Intent, reason: str = "not_covered", retrieved: list[str] | None = None) -> Answer:
        lead = REFUSALS["injection"] if intent.injection and not intent.text.strip() else REFUSALS[reason]
        return Answer(text=f"{lead} {HELP}", refused=True, kind="out_of_scope", retrieved=list(retrieved or []))

    # -- questions about the guidance ------------------------------------
    def in_scope(self, intent: Intent, retrieval: Retrieval) -> bool:
        if not retrieval.covered:
            return False
        words = content_tokens(intent.query)
        words += [p for t in words for p in self.index.lexical.decompounder.split(t)]
        on_topic = is_digital(words) or any(w.startswith(g.lower()) for w in words for g in GUIDANCE)
        return on_topic or max(p.coverage for p in retrieval.passages) >= 0.6

    def question(self, intent: Intent) -> Answer:
        retrieval = self.retriever.retrieve(intent.query)
        if not self.in_scope(intent, retrieval):
            return self.refuse(intent, retrieved=retrieval.chunk_ids)
        cites = Citations()
        cites.note_retrieved(retrieval.chunk_ids)
        scorer = Scorer(self.index, intent.query)
        scored = []
        for rank, p in enumerate(retrieval.passages):
            for pos, s in enumerate(sentences(p.chunk)):
                if not s.endswith("?"):
                    scored.append((scorer.score(s) / (1 + 0.2 * rank), rank, pos, p.chunk, s))
        scored.sort(key=lambda x: (-x[0], x[1], x[2]))
        best = scored[0][0] if scored else 0.0
        need_whole = bool(scored) and scorer.has_whole(scored[0][4])
        chosen: list[tuple] = []
        for item in scored:
            if len(chosen) == 4 or item[0] < 0.5 * best or best <= 0:
                break
            if need_whole and not scorer.has_whole(item[4]):
                continue
            if sum(c[3].id == item[3].id for c in chosen) < 2 and not any(_similar(item[4], c[4]) for c in chosen):
                chosen.append(item)
        if len(chosen) == 1:
            # One strong sentence: its neighbour in the same passage is better context than a weak match elsewhere.
            _, rank, pos, chunk, _ = chosen[0]
            parts = sentences(chunk)
            for near in (pos + 1, pos - 1):
                if 0 <= near < len(parts) and not parts[near].endswith("?"):
                    chosen.append((0.0, rank, near, chunk, parts[near]))
                    break
        if len(chosen) < 2:
            return self.refuse(intent, retrieved=retrieval.chunk_ids)
        chosen.sort(key=lambda x: (x[1], x[2]))
        body = " ".join(f"{s} [{cites.cite(chunk, s)}]" for _, _, _, chunk, s in chosen)
        related = self.related(intent.query, retrieval, cites, limit=3)
        return self._answer(intent, body, related, cites, "question")

    def related(self, query: str, retrieval: Retrieval, cites: Citations, limit: int = 3) -> list[CoachingQuestion]:
        """1–3 bank questions whose sources are among the retrieved passages or whose words fit the query."""
        places = {(p.chunk.document_id, p.chunk.section) for p in retrieval.passages}
        docs = {p.chunk.document_id for p in retrieval.passages}
        scorer = Scorer(self.index, query)

        def score(q: Question) -> float:
            s = 0.0
            for src in q.sources:
                if any(d == src.document and sec and src.heading in sec.split(" > ") for d, sec in places):
                    s += 3.0
                elif src.document in docs:
                    s += 0.5
            return s + 0.3 * scorer.score(f"{q.text} {' '.join(q.triggers)}")

        ranked = sorted(((score(q), q.id, q) for q in self.bank.questions), key=lambda x: (-x[0], x[1]))
        out = []
        for s, _, q in ranked[:limit]:
            if s >= 1.0 or (not out and s > 0):
                out.append(self.cite_question(q, query, cites))
        return out

    def cite_question(self, q: Question, query: str, cites: Citations) -> CoachingQuestion:
        scorer = Scorer(self.index, f"{q.text} {q.why} {query}")
        for src in q.sources:
            found = self.sources.best_quote(src.document, src.heading, scorer)
            if found is not None:
                return CoachingQuestion(q.id, q.dimension, q.text, q.why, [cites.cite(*found)])
        return CoachingQuestion(q.id, q.dimension, q.text, q.why, [])

    def _answer(self, intent: Intent, body: str, related: list[CoachingQuestion], cites: Citations, kind: str) -> Answer:
        parts = [INJECTION_NOTE] if intent.injection else []
        parts.append(body)
        if related:
            lines = ["Frågor att ta med till ledningsgruppen:"]
            for i, q in enumerate(related, start=1):
                lines.append(f"{i}. {q.text}")
                lines.append(f"   Varför: {q.why}" + "".join(f" [{n}]" for n in q.citations))
            parts.append("\n".join(lines))
        return Answer(text="\n\n".join(parts), questions=related, citations=cites.items, kind=kind,  # type: ignore[arg-type]
                      retrieved=cites.retrieved, body=body)

    # -- follow-ups ------------------------------------------------------
    def followup(self, intent: Intent, history: list[Turn]) -> Answer | None:
        if intent.question_ref is None:
            return None
        previous = next((t.answer for t in reversed(history) if t.answer.questions), None)
        if previous is None:
            text = ("Det finns inga numrerade frågor tidigare i samtalet att utveckla. Beskriv först initiativet, "
                    "till exempel ”Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten”.")
            return Answer(text=text, kind="followup")
        n = intent.question_ref
        if not 1 <= n <= len(previous.questions):
            text = (f"Det förra svaret hade {len(previous.questions)} frågor, så det finns ingen fråga {n}. "
                    "Skriv till exempel ”berätta mer om fråga 1”.")
            return Answer(text=text, kind="followup")
        asked = previous.questions[n - 1]
        q = self.bank.question(asked.id)
        cites = Citations()
        scorer = Scorer(self.index, f"{asked.text} {asked.why}")
        why_refs = "".join(f" [{cites.cite(chunk, c.quote)}]" for c in previous.citations
                           if c.n in asked.citations and (chunk := self._chunk(c.chunk_id)) is not None)
        why_quotes = " ".join(c.quote for c in cites.items)
        picked: list[str] = []
        for src in (q.sources if q else []):
            for chunk in self.sources.chunks(src.document, src.heading):
                for s in sentences(chunk):
                    if len(picked) < 4 and scorer.score(s) > 0 and not s.endswith("?") and s not in why_quotes:
                        picked.append(f"{s} [{cites.cite(chunk, s)}]")
        lines = [f"Fråga {n}: {asked.text}", "", f"Varför den är viktig: {asked.why}{why_refs}"]
        if picked:
            lines += ["", "Vad vägledningen säger: " + " ".join(picked)]
        if not why_refs and not picked:
            return None
        body = "\n".join(lines)
        return self._answer(intent, body, [], cites, "followup")

    def _chunk(self, chunk_id: str):  # noqa: ANN202 - a Chunk or None
        return self.index.ledger.chunks([chunk_id]).get(chunk_id) if chunk_id else None

    def define(self, intent: Intent) -> Answer | None:
        entry = self.sources.define(intent.term or "")
        if entry is None:
            return None
        term, chunk, definition = entry
        cites = Citations()
        body = [f"{s} [{cites.cite(chunk, s)}]" for s in definition[:3] if len(s) >= 20]
        retrieval = self.retriever.retrieve(term, k=4)
        cites.note_retrieved(retrieval.chunk_ids)
        scorer = Scorer(self.index, term)
        extra = [(scorer.score(s), p.chunk, s) for p in retrieval.passages if p.chunk.document_id != GLOSSARY_DOCUMENT
                 for s in sentences(p.chunk) if not s.endswith("?")]
        extra.sort(key=lambda x: -x[0])
        if extra and extra[0][0] > 0:
            _, c, s = extra[0]
            body.append(f"I vägledningen: {s} [{cites.cite(c, s)}]")
        kind = "followup" if intent.kind == "followup" else "question"
        return self._answer(intent, " ".join(body), self.related(term, retrieval, cites, limit=2), cites, kind)


def _similar(a: str, b: str) -> bool:
    """Near-duplicates: the guidance repeats key facts across documents, an answer should not."""
    ta, tb = set(content_tokens(a)), set(content_tokens(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= 0.6
