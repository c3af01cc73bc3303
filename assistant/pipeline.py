"""The one entry point the app, the CLI and the evals use: `Pipeline.ask`.

    pipeline = Pipeline.from_settings(settings)      # cheap: nothing loads yet
    pipeline.warm_up()                               # model, lexical index, glossary
    answer = pipeline.ask("Vi ska upphandla …", history=[Turn(message, answer), …])

The question text is logged only when `settings.log_questions` is on: questions
from a ledningsgrupp may be allmänna handlingar, so by default the log holds
only the kind of message, its length and the time taken.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.answer import Answer, Turn
from assistant.ingestion.index import Index
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.coaching.coach import Coach
    from assistant.coaching.llm import LLMComposer

log = logging.getLogger(__name__)


class Pipeline:
    """Message in, grounded `Answer` out (offline mode: no language model needed)."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index
        self._coach: Coach | None = None
        self._composer: LLMComposer | None = None
        self._composer_ready = False

    @classmethod
    def from_settings(cls, settings: Settings, index: Index | None = None) -> Pipeline:
        return cls(settings, index or Index(settings))

    @property
    def coach(self) -> Coach:
        if self._coach is None:  # built on first use so that constructing a Pipeline stays cheap
            from assistant.coaching.coach import Coach
            from assistant.coaching.questionbank import QuestionBank
            from assistant.coaching.retriever import Retriever

            bank = QuestionBank.load(self.settings.question_bank)
            retriever = Retriever(self.index, self.settings)
            self._coach = Coach(bank, self.index, retriever, self.settings.coaching_questions)
        return self._coach

    @property
    def composer(self) -> LLMComposer | None:
        """The optional language model, or None in the default offline mode."""
        if not self._composer_ready:
            from assistant.coaching.llm import LLMComposer, chat_model_from_settings

            model = chat_model_from_settings(self.settings)
            self._composer = LLMComposer(model) if model is not None else None
            self._composer_ready = True
        return self._composer

    def warm_up(self) -> None:
        self.index.warm_up()
        self.coach.warm_up()

    def close(self) -> None:
        self.index.close()

    def ask(self, message: str, history: Sequence[Turn] = ()) -> Answer:
        started = time.perf_counter()
        answer = self.coach.respond(message or "", list(history))
        if self.composer is not None and answer.kind in ("question", "initiative"):
            answer = self.composer.compose(message, answer)
        elapsed = time.perf_counter() - started
        if self.settings.log_questions:
            log.info("answered %r as %s in %.3f s", message, answer.kind, elapsed)
        else:
            log.info("answered a %s message (%d characters) in %.3f s", answer.kind, len(message or ""), elapsed)
        return answer
