"""Compose the answer: every sentence of guidance is quoted from a retrieved passage, with its [n].

The routes: the right questions for an initiative (warning signs first), an
extract for a question, the closest guidance labelled as such when the guidance
does not cover the message, a polite decline, the help text, and an elaboration
of a numbered question from an earlier answer. Fixed texts (help, notes, the
gap summary) carry no [n] and are never scored as content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer import Answer, Citation, CoachingQuestion, Gaps, Turn, WarningSign
from assistant.coaching.questionbank import Question, QuestionBank
from assistant.coaching.reading import Reading
from assistant.coaching.retrieval import Passage, Retrieval, Retriever
from assistant.coaching.signs import WarningSignSpec
from assistant.ingestion.lexical import LexicalIndex
from assistant.text import content_tokens, split_sentences
from assistant.types import Chunk

NUMBER_WORDS = {1: "en", 2: "två", 3: "tre", 4: "fyra", 5: "fem", 6: "sex", 7: "sju", 8: "åtta"}
HELP = (
    "Jag kan hjälpa till med tre saker: ställa rätt frågor om ett digitaliseringsinitiativ som ni funderar på, "
    "svara på frågor om vägledningen – nyttorealisering, ledningsgruppens roll, förändringsledning, förvaltning, "
    "data, juridik och upphandling – och förklara begrepp som nyttoägare eller förvaltningsskuld."
)
EMPTY = "Skriv ett initiativ som ni funderar på, eller en fråga om vägledningen."
DECLINE = "Vägledningen som jag bygger på tar inte upp det här, så jag kan inte svara utan att gissa."
RELATED = "Vägledningen tar inte upp just det här. Det närmaste den säger:"
TAKE_ALONG = "Frågor att ta med till ledningsgruppen:"
RELATED_INITIATIVE = ("Vägledningen tar inte upp just den här sortens initiativ, men de här frågorna ligger närmast "
                      "det den säger:")
INJECTION_NOTE = "Jag följer inte instruktioner i meddelandet och svarar bara på resten av det."
ONLY_INJECTION = "Jag följer inte instruktioner som försöker ändra hur jag arbetar."
ENGLISH_NOTE = "(Svaren ges på svenska, eftersom vägledningen och frågebanken är skrivna på svenska.)"
NO_QUESTIONS_YET = ("Det finns inga numrerade frågor tidigare i samtalet att utveckla. Beskriv först initiativet "
                    "som ni funderar på.")
_BULLET_RE = re.compile(r"^[•\-–*]\s*")
PASSAGE_WEIGHT = 0.5  # how much a passage's retrieval rank counts beside a sentence's own overlap (dev split)
KEEP = 0.6  # sentences scoring below this share of the best are left out
ASKS = 0.25  # the message-kind model's P(question) from which an initiative also gets a short extract
MAX_QUOTE = 420


@dataclass
class Citations:
    """Numbered citations in the order they are first used; the same quote gets the same [n]."""

    items: list[Citation] = field(default_factory=list)

    def cite(self, chunk: Chunk, quote: str) -> int:
        quote = quote.strip()
        for c in self.items:
            if c.chunk_id == chunk.id and c.quote == quote:
                return c.n
        n = len(self.items) + 1
        self.items.append(Citation(n, chunk.document_id, chunk.title, chunk.page, chunk.section, quote, chunk.id))
        return n


def sentences(chunk: Chunk) -> list[str]:
    """Sentences of a chunk fit to quote: list markers removed, fragments and headings left out."""
    out = []
    for raw in split_sentences(chunk.text):
        s = _BULLET_RE.sub("", raw.strip())
        if 30 <= len(s) <= MAX_QUOTE and s[-1] in ".!?" and not s.endswith("?"):
            out.append(s)
    return out


class Scorer:
    """Scores sentences against a query: idf of shared stems and compound parts, with and without å/ä/ö."""

    def __init__(self, snapshot: LexicalIndex, query: str) -> None:
        self._analyzer = snapshot.analyzer
        terms = self._analyzer.analyze(content_tokens(query))
        n = len(snapshot)
        self.weights: dict[tuple[str, str], float] = {}
        for channel in ("part", "fold"):
            ch = snapshot.channels[channel]
            for term in set(terms[channel]):
                tid = ch.vocab.get(term)
                df = int(ch.df[tid]) if tid is not None else 0
                if df:  # a term the corpus never uses cannot make a sentence of it relevant
                    self.weights[(channel, term)] = float(_idf(df, n))

    def score(self, text: str) -> float:
        terms = self._analyzer.analyze(content_tokens(text))
        found = {(c, t) for c in ("part", "fold") for t in terms[c]}
        return sum(w for key, w in self.weights.items() if key in found)


def _idf(df: int, n: int) -> float:
    from bm25s.scoring import _select_idf_scorer

    return _select_idf_scorer("lucene")(df, n)


def _similar(a: str, b: str) -> bool:
    """Near-duplicates: the guidance repeats key facts across documents, an answer should not."""
    ta, tb = set(content_tokens(a)), set(content_tokens(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= 0.6


class Composer:
    def __init__(self, bank: QuestionBank, retriever: Retriever) -> None:
        self.bank = bank
        self.retriever = retriever

    # -- fixed answers ---------------------------------------------------------
    def empty(self, reading: Reading) -> Answer:
        return self._finish(reading, Answer(text=f"{EMPTY} {HELP}", kind="empty", coverage="none"))

    def decline(self, reading: Reading, retrieval: Retrieval | None = None) -> Answer:
        lead = ONLY_INJECTION if reading.injection and not content_tokens(reading.text) else DECLINE
        return self._finish(reading, Answer(text=f"{lead} {HELP}", refused=True, kind="out_of_scope", coverage="none",
                                            retrieved=retrieval.chunk_ids if retrieval else []))

    # -- from the guidance -----------------------------------------------------
    def related(self, reading: Reading, retrieval: Retrieval, questions: list[Question] = (),
                signs: list[WarningSignSpec] = ()) -> Answer:
        """Not covered, but close: the closest passage, plainly labelled as such; with `questions` (a question that
        may describe the chef's own plan) the questions to take along, and any warning sign, instead of the help."""
        cites = Citations()
        if retrieval.ranking is None:
            return self.decline(reading, retrieval)
        scorer = Scorer(retrieval.ranking.snapshot, retrieval.query)
        best = self._best_sentences(retrieval.passages[:3], scorer, limit=2)
        if not best:
            return self.decline(reading, retrieval)
        retrieved = list(retrieval.chunk_ids)
        notes = [note for spec in signs if (note := self._sign(spec, reading, retrieval, cites, retrieved))]
        body = " ".join(f"{s} [{cites.cite(p.chunk, s)}]" for p, s in best)
        asked = [self._cite_question(q, reading, retrieval, cites, retrieved) for q in questions]
        parts = [f"{n.text} " + "".join(f"[{c}]" for c in n.citations) for n in notes] + [f"{RELATED} {body}"]
        parts.append(f"{TAKE_ALONG}\n" + _numbered(asked) if asked else HELP)
        return self._finish(reading, Answer(text="\n\n".join(parts), questions=asked, citations=cites.items,
                                            signs=notes, kind=reading.kind, coverage="related", retrieved=retrieved,
                                            body=body))

    def question(self, reading: Reading, retrieval: Retrieval, related: list[Question],
                 signs: list[WarningSignSpec] = ()) -> Answer:
        if retrieval.ranking is None:
            return self.decline(reading, retrieval)
        cites = Citations()
        retrieved = list(retrieval.chunk_ids)
        notes = [note for spec in signs if (note := self._sign(spec, reading, retrieval, cites, retrieved))]
        scorer = Scorer(retrieval.ranking.snapshot, retrieval.query)
        chosen = self._best_sentences(retrieval.passages, scorer, limit=4)
        if not chosen:
            return self.related(reading, retrieval)
        body = " ".join(f"{s} [{cites.cite(p.chunk, s)}]" for p, s in chosen)
        asked = [self._cite_question(q, reading, retrieval, cites, retrieved) for q in related]
        parts = [f"{n.text} " + "".join(f"[{c}]" for c in n.citations) for n in notes] + [body]
        if asked:
            parts.append(f"{TAKE_ALONG}\n" + _numbered(asked))
        return self._finish(reading, Answer(text="\n\n".join(parts), questions=asked, citations=cites.items,
                                            signs=notes, kind="followup" if reading.kind == "followup" else "question",
                                            retrieved=retrieved, body=body))

    def initiative(self, reading: Reading, retrieval: Retrieval, picked: list[Question], signs: list[WarningSignSpec],
                   gaps: Gaps, related: bool = False) -> Answer:
        """The right questions; when the guidance only comes close (`related`), the same, plainly labelled so."""
        cites = Citations()
        retrieved = list(retrieval.chunk_ids)
        notes = [note for spec in signs if (note := self._sign(spec, reading, retrieval, cites, retrieved))]
        parts = [f"{n.text} " + "".join(f"[{c}]" for c in n.citations) for n in notes]
        body = ""
        if asks(reading) and not related and retrieval.ranking is not None:  # she also asked: answer that too
            extract = self._best_sentences(retrieval.passages, Scorer(retrieval.ranking.snapshot, retrieval.query), limit=2)
            body = " ".join(f"{s} [{cites.cite(p.chunk, s)}]" for p, s in extract)
            if body:
                parts.append(f"Det här säger vägledningen: {body}")
        asked = [self._cite_question(q, reading, retrieval, cites, retrieved) for q in picked]
        count = NUMBER_WORDS.get(len(asked), str(len(asked)))
        lead = RELATED_INITIATIVE if related else f"Här är {count} frågor som ledningsgruppen bör ställa om initiativet:"
        parts.append(f"{lead}\n" + _numbered(asked))
        parts.append(self._gap_text(gaps))
        return self._finish(reading, Answer(text="\n\n".join(p for p in parts if p), questions=asked,
                                            citations=cites.items, gaps=gaps, signs=notes, kind="initiative",
                                            coverage="related" if related else "covered", retrieved=retrieved,
                                            body=body))

    def followup(self, reading: Reading, history: list[Turn]) -> Answer:
        """More about a numbered question of the latest answer that had questions."""
        previous = next((t.answer for t in reversed(history) if t.answer.questions), None)
        if previous is None:
            return self._finish(reading, Answer(text=NO_QUESTIONS_YET, kind="followup", coverage="none"))
        n = reading.question_ref or 0
        if not 1 <= n <= len(previous.questions):
            text = (f"Det förra svaret hade {len(previous.questions)} frågor, så det finns ingen fråga {n}. "
                    "Skriv till exempel ”berätta mer om fråga 1”.")
            return self._finish(reading, Answer(text=text, kind="followup", coverage="none"))
        asked = previous.questions[n - 1]
        question = self.bank.question(asked.id)
        cites = Citations()
        retrieved: list[str] = []
        lines = [f"Fråga {n}: {asked.text}"]
        if question is not None:
            focus = Reading(reading.original, f"{asked.text} {asked.why}", f"{asked.text} {asked.why} {reading.context}",
                            tuple(content_tokens(f"{asked.text} {asked.why} {reading.context}")), "followup")
            retrieval = self.retriever.retrieve(focus)
            retrieved = list(retrieval.chunk_ids)
            why = self._cite_question(question, focus, retrieval, cites, retrieved)
            lines += ["", f"Varför den är viktig: {why.why}" + "".join(f" [{c}]" for c in why.citations)]
            scorer = Scorer(retrieval.ranking.snapshot, retrieval.query) if retrieval.ranking else None
            passages = [p for p in retrieval.passages if any(p.chunk.document_id == s.document for s in question.sources)]
            extra = self._best_sentences(passages or retrieval.passages[:2], scorer, limit=3,
                                         skip={c.quote for c in cites.items}) if scorer else []
            if extra:
                lines += ["", "Vad vägledningen säger: " + " ".join(f"{s} [{cites.cite(p.chunk, s)}]" for p, s in extra)]
        body = "\n".join(lines)
        return self._finish(reading, Answer(text=body, citations=cites.items, kind="followup", retrieved=retrieved,
                                            body=body))

    # -- pieces ----------------------------------------------------------------
    def _best_sentences(self, passages: list[Passage], scorer: Scorer, limit: int,
                        skip: set[str] = frozenset()) -> list[tuple[Passage, str]]:
        """The sentences that answer best: their own overlap with the query (scaled to the best sentence) plus how
        well retrieval ranked their passage as a whole, which finds answers worded unlike the question."""
        raw = []
        for rank, p in enumerate(passages):
            # The heading a passage stands under speaks for its sentences too ("Den farliga delegationsfällan").
            context = 0.5 * scorer.score(p.chunk.section or "")
            for pos, s in enumerate(sentences(p.chunk)):
                if s not in skip:
                    raw.append((scorer.score(s) + context, rank, pos, p, s))
        top_overlap = max((x[0] for x in raw), default=0.0)
        top_passage = max((p.hit.score for p in passages), default=0.0) or 1.0
        if top_overlap <= 0:
            return []
        scored = [(o / top_overlap + PASSAGE_WEIGHT * p.hit.score / top_passage, rank, pos, p, s)
                  for o, rank, pos, p, s in raw if o > 0]
        scored.sort(key=lambda x: (-x[0], x[1], x[2]))
        best = scored[0][0]
        chosen: list[tuple] = []
        for item in scored:
            if len(chosen) == limit or item[0] < KEEP * best:
                break
            if sum(c[3].chunk.id == item[3].chunk.id for c in chosen) < 2 and not any(_similar(item[4], c[4]) for c in chosen):
                chosen.append(item)
        if len(chosen) == 1 and limit > 1:  # one strong sentence: its neighbour is better context than a weak match
            _, rank, pos, p, _ = chosen[0]
            parts = sentences(p.chunk)
            for near in (pos + 1, pos - 1):
                if 0 <= near < len(parts):
                    chosen.append((0.0, rank, near, p, parts[near]))
                    break
        chosen.sort(key=lambda x: (x[1], x[2]))
        return [(p, s) for _, _, _, p, s in chosen]

    def _support(self, retrieval: Retrieval, sections: list[tuple[str, str]], claim: str) -> tuple[Chunk, str] | None:
        """The passage of the given sections, and its sentence(s), that best support a claim (a question's why,
        a warning): what the answer cites for it. Two sentences when the second follows and fits in."""
        scorer = Scorer(retrieval.ranking.snapshot, claim) if retrieval.ranking is not None else None
        best: tuple[float, int, Chunk, int] | None = None
        for order, (document, heading) in enumerate(sections):
            for hit in self.retriever.in_section(retrieval, document, heading):
                for i, s in enumerate(sentences(hit.chunk)):
                    key = (scorer.score(s) if scorer else 0.0, -order)
                    if best is None or key > best[:2]:
                        best = (key[0], key[1], hit.chunk, i)
        if best is None:
            return None
        chunk, i = best[2], best[3]
        parts = sentences(chunk)
        quote = parts[i]
        if i + 1 < len(parts) and len(quote) + len(parts[i + 1]) < MAX_QUOTE:
            quote = f"{quote} {parts[i + 1]}"
        return chunk, quote

    def _cite_question(self, q: Question, reading: Reading, retrieval: Retrieval, cites: Citations,
                       retrieved: list[str]) -> CoachingQuestion:
        found = self._support(retrieval, [(s.document, s.heading) for s in q.sources], f"{q.why} {q.text}")
        if found is None:
            return CoachingQuestion(q.id, q.dimension, q.text, q.why, [])
        chunk, quote = found
        if chunk.id not in retrieved:
            retrieved.append(chunk.id)
        return CoachingQuestion(q.id, q.dimension, q.text, q.why, [cites.cite(chunk, quote)])

    def _sign(self, spec: WarningSignSpec, reading: Reading, retrieval: Retrieval, cites: Citations,
              retrieved: list[str]) -> WarningSign | None:
        found = self._support(retrieval, [(spec.document, spec.heading)], spec.warning)
        if found is None:
            return None
        chunk, quote = found
        if chunk.id not in retrieved:
            retrieved.append(chunk.id)
        return WarningSign(spec.id, spec.name, spec.warning, [cites.cite(chunk, quote)])

    def _gap_text(self, gaps: Gaps) -> str:
        name = self.bank.dimension_name
        if gaps.short:
            return ("Beskrivningen är kort, så frågorna utgår mest från vad slags initiativ det är. "
                    "Berätta mer om mål, ansvar och arbetssätt, så kan frågorna bli skarpare.")
        lines = []
        if gaps.addressed:
            lines.append(f"Det här tar beskrivningen redan upp: {_join([name(d) for d in gaps.addressed])}.")
        if gaps.missing:
            lines.append(f"Det här säger beskrivningen inget om: {_join([name(d) for d in gaps.missing])}.")
        return "\n".join(lines)

    def _finish(self, reading: Reading, answer: Answer) -> Answer:
        notes = []
        if reading.english and answer.kind != "empty":
            notes.append(ENGLISH_NOTE)
        if reading.injection and content_tokens(reading.text):
            notes.append(INJECTION_NOTE)
        if not notes:
            return answer
        return Answer(**{**answer.__dict__, "text": "\n\n".join([*notes, answer.text])})


def asks(reading: Reading) -> bool:
    """Whether a description also asks something the guidance could answer in words, not only in questions."""
    return "?" in reading.text or reading.probabilities.get("question", 0.0) >= ASKS


def _numbered(questions: list[CoachingQuestion]) -> str:
    lines = []
    for i, q in enumerate(questions, start=1):
        lines.append(f"{i}. {q.text}")
        lines.append(f"   Varför: {q.why}" + "".join(f" [{n}]" for n in q.citations))
    return "\n".join(lines)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]
