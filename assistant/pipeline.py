"""The one entry point the app, the CLI and the evals use: `Pipeline.ask`.

    pipeline = Pipeline.from_settings(settings)      # cheap: nothing loads yet
    pipeline.warm_up()                               # model, lexical index, classifiers, situations
    answer = pipeline.ask("Vi ska upphandla …", history=[Turn(message, answer), …])
    offline, stream = pipeline.stream(message, history)  # with an LLM: the offline answer now, the model's later

Data flows one way: read the message once → retrieve → decide the scope →
select questions and warning signs → compose → verify the citations (with an
LLM configured: → the model's rewrite, verified sentence by sentence). The
question text is logged only when `settings.log_questions` is on: questions
from a ledningsgrupp may be allmänna handlingar, so by default the log holds
only the kind of message, its length and the time taken.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from assistant.answer import Answer, Citation, CoachingQuestion, Gaps, Turn
from assistant.errors import MessageTooLongError
from assistant.ingestion.index import Index
from assistant.settings import Settings
from assistant.text import clean_message

if TYPE_CHECKING:
    from assistant.coaching.composition import Composer
    from assistant.coaching.llm import LLMComposer, ModelStream
    from assistant.coaching.questionbank import QuestionBank
    from assistant.coaching.reading import Reader, Reading
    from assistant.coaching.retrieval import Retrieval, Retriever
    from assistant.coaching.scope import ScopeModel
    from assistant.coaching.selection import QuestionSelector
    from assistant.coaching.signs import SignDetector
    from assistant.coaching.situations import SituationMatcher

log = logging.getLogger(__name__)
RELATED_QUESTIONS = 2  # bank questions shown with an answer to a question


@dataclass(frozen=True)
class Coaching:
    """The coaching steps, built together on first use."""

    reader: Reader
    retriever: Retriever
    scope: ScopeModel
    signs: SignDetector
    selector: QuestionSelector
    texts: SituationMatcher
    composer: Composer
    bank: QuestionBank


class Pipeline:
    """Message in, grounded `Answer` out (offline mode: no language model needed)."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index
        self._lock = threading.Lock()
        self._coaching: Coaching | None = None

    @classmethod
    def from_settings(cls, settings: Settings, index: Index | None = None) -> Pipeline:
        return cls(settings, index or Index(settings))

    @property
    def coaching(self) -> Coaching:
        if self._coaching is None:
            with self._lock:
                if self._coaching is None:
                    self._coaching = self._build()
        return self._coaching

    def _build(self) -> Coaching:
        from assistant.coaching.composition import Composer
        from assistant.coaching.questionbank import QuestionBank
        from assistant.coaching.reading import Reader
        from assistant.coaching.retrieval import RetrievalWeights, Retriever
        from assistant.coaching.scope import ScopeModel
        from assistant.coaching.selection import QuestionSelector, SelectionWeights
        from assistant.coaching.signs import SignDetector, SignThreshold, load_signs
        from assistant.coaching.situations import SituationMatcher

        bank = QuestionBank.load(self.settings.question_bank)
        analyzer = self.index.lexical.analyzer
        weights = {**self.settings.channel_weights, "dense": self.settings.dense_weight}
        cache = self.settings.data_dir / "cache" / "situations.json"

        def matcher(items: dict) -> SituationMatcher:
            return SituationMatcher(items, analyzer, self.index.embedder, weights, cache)

        texts = matcher({**{q.id: [q.text, q.why] for q in bank.questions},
                         **{f"dimension:{d.id}": [d.description] for d in bank.dimensions if d.description}})
        retriever = Retriever(self.index, self.settings, RetrievalWeights.load())
        selector = QuestionSelector(bank, matcher({q.id: list(q.situations) for q in bank.questions}), texts,
                                    retriever, SelectionWeights.load(), self.settings.coaching_questions)
        signs = SignDetector.bundled(load_signs(self.settings.warning_signs), bank, SignThreshold.load())
        return Coaching(Reader.bundled(), retriever, ScopeModel.load(), signs, selector, texts,
                        Composer(bank, retriever), bank)

    @cached_property
    def composer(self) -> LLMComposer | None:
        """The optional language model, or None in the default offline mode."""
        from assistant.coaching.llm import LLMComposer, chat_model_from_settings

        model = chat_model_from_settings(self.settings)
        if model is None:
            return None
        # A model sentence that reads as an instruction is dropped, with the reader's own instruction model.
        return LLMComposer(model, timeout=self.settings.llm_timeout,
                           is_instruction=self.coaching.reader.instructions.probability)

    def warm_up(self) -> None:
        self.index.warm_up()
        _ = self.coaching

    def close(self) -> None:
        self.index.close()

    def ask(self, message: str, history: Sequence[Turn] = ()) -> Answer:
        """The final answer: the offline one, or with an LLM configured its verified rewrite (or "fallback")."""
        started = time.perf_counter()
        answer, stream = self.stream(message, history)
        if stream is not None:
            answer = stream.result()
        elapsed = time.perf_counter() - started
        if self.settings.log_questions:
            log.info("answered %r as %s (%s) in %.3f s", message, answer.kind, answer.mode, elapsed)
        else:
            log.info("answered a %s message (%d characters, %s) in %.3f s", answer.kind, len(message or ""),
                     answer.mode, elapsed)
        return answer

    def stream(self, message: str, history: Sequence[Turn] = ()) -> tuple[Answer, ModelStream | None]:
        """The offline answer at once, and a stream when an LLM is configured and may rewrite this answer (None
        otherwise). The model gets the cleaned message (instructions set aside), the recent turns and the
        answer's passages; for an initiative also the selection's best-ranked candidate questions."""
        message = clean_message(message or "")
        if len(message) > self.settings.max_message_chars:
            # Before any reading: every later step is bounded by this length.
            log.info("refused a message of %d characters (limit %d)", len(message), self.settings.max_message_chars)
            raise MessageTooLongError(
                f"Meddelandet är för långt ({len(message)} tecken). Assistenten läser högst "
                f"{self.settings.max_message_chars} tecken åt gången – korta ner det, eller dela upp det i flera "
                "frågor."
            )
        history = list(history)
        reading = self.coaching.reader.read(message or "", history)
        answer, context = self._respond(reading, history)
        composer = self.composer
        # A follow-up answered from the guidance (what does that mean for us?) goes too, with the conversation;
        # an elaboration of a numbered question ("berätta mer om fråga 2") stays as the coach wrote it.
        rewritable = answer.kind in ("question", "initiative") or (answer.kind == "followup" and reading.question_ref is None)
        if composer is None or not rewritable or answer.coverage != "covered" or answer.refused or not answer.citations:
            return answer, None
        from assistant.coaching.llm import recent_turns

        turns = recent_turns(history, lambda m: self.coaching.reader.read(clean_message(m)).text)
        if answer.kind == "initiative" and context is not None and answer.questions:
            candidates, citations, retrieved = self._candidates(answer, *context)
            return answer, composer.start(context[0].text, answer, turns, candidates, citations, retrieved)
        return answer, composer.start(reading.text, answer, turns)

    def _candidates(self, answer: Answer, reading: Reading, retrieval: Retrieval
                    ) -> tuple[list[CoachingQuestion], list[Citation], list[str]]:
        """The offline picks, then the selection's next-ranked questions (up to MAX_CANDIDATES), each with a cited
        source; the answer's citations extended with those sources, numbered after its own."""
        from assistant.coaching.composition import Citations
        from assistant.coaching.llm import MAX_CANDIDATES

        c = self.coaching
        cites = Citations(items=list(answer.citations))
        retrieved = list(answer.retrieved)
        candidates = list(answer.questions)
        for _, q in c.selector.rank(reading, retrieval):
            if len(candidates) >= MAX_CANDIDATES:
                break
            if any(q.id == p.id for p in candidates):
                continue
            cited = c.composer._cite_question(q, reading, retrieval, cites, retrieved)
            if cited.citations:
                candidates.append(cited)
        return candidates, cites.items, retrieved

    def respond(self, reading: Reading, history: list[Turn]) -> Answer:
        """The offline answer to a reading: every decision from the reading and the retrieval evidence."""
        return self._respond(reading, history)[0]

    def _respond(self, reading: Reading, history: list[Turn]) -> tuple[Answer, tuple[Reading, Retrieval] | None]:
        """The offline answer, and for an initiative the reading and retrieval it was chosen from."""
        from assistant.coaching.selection import addressed_dimensions, is_short

        c = self.coaching
        if reading.kind == "empty":
            return c.composer.empty(reading), None
        if reading.kind == "followup" and reading.question_ref is not None:
            return c.composer.followup(reading, history), None
        if not reading.tokens:
            return c.composer.decline(reading), None
        retrieval = c.retriever.retrieve(reading)
        scope = c.scope.decide(retrieval.evidence)
        if reading.kind == "followup" and reading.context and scope != "covered":
            # A follow-up the guidance cannot answer on its own ("och för oss?") is read with the previous message.
            with_context = _with_context(reading)
            again = c.retriever.retrieve(with_context)
            if (scope_again := c.scope.decide(again.evidence)) != "unrelated":
                reading, retrieval, scope = with_context, again, scope_again
        if scope == "unrelated":
            return c.composer.decline(reading, retrieval), None
        # A question the kind model also finds initiative-like gets the full set of questions, not two: the
        # boundary between "we plan X, how …?" and a plain question is where the kind model errs most.
        full = reading.kind == "question" and reading.probabilities.get("initiative", 0.0) >= c.selector.weights.full_from
        if scope == "related" and reading.kind != "initiative" and not full:
            return c.composer.related(reading, retrieval), None
        # A question that describes a situation may show a warning sign too; a short question says too little.
        signs = self._signs(reading) if reading.kind == "initiative" or not is_short(reading) else []
        picked = c.selector.select(reading, retrieval, signs)
        if reading.kind == "initiative":
            addressed = addressed_dimensions(c.bank, reading, c.texts)
            missing = list(dict.fromkeys(q.dimension for q in picked if q.dimension not in addressed))
            gaps = Gaps(addressed=addressed, missing=[] if is_short(reading) else missing, short=is_short(reading))
            answer = c.composer.initiative(reading, retrieval, picked, signs, gaps, related=scope == "related")
            return answer, (reading, retrieval)
        if scope == "related":
            return c.composer.related(reading, retrieval, picked, signs), None
        return c.composer.question(reading, retrieval, picked if full else picked[:RELATED_QUESTIONS + len(signs)],
                                   signs), None

    def _signs(self, reading: Reading) -> list:
        """The warning signs the message shows, read in Swedish (an English message through its glossary query)."""
        return self.coaching.signs.detect(reading.query if reading.english else reading.text)


def _with_context(reading: Reading) -> Reading:
    """A follow-up that names no question is searched together with the chef's previous message."""
    from assistant.text import content_tokens

    query = f"{reading.context} {reading.query}"
    return replace(reading, query=query, tokens=tuple(content_tokens(query)))
