"""A service's event handlers: what each event type does, registered by type.

The runner (`consumer.py`) calls them in its inbox transaction; a handler neither opens
nor commits one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.contract import Event
from edvent_events.envelope import Envelope

E = TypeVar("E", bound=Event)

# A handler gets the consumer's inbox transaction and the typed envelope; it neither
# opens nor commits a transaction (the runner commits once it returns).
Handler = Callable[[AsyncSession, Envelope[E]], Awaitable[None]]
# A two-step handler's slow half (S3, an LLM): runs outside any transaction and returns
# the fast half, which writes its result in the inbox transaction.
Apply = Callable[[AsyncSession], Awaitable[None]]
Prepare = Callable[[Envelope[E]], Awaitable[Apply]]

REFUSED = Counter(
    "events_refused_total",
    "Events a consumer refused to apply, by reason: wrong_source, or refused_by_handler",
    ["service", "type", "reason"],
)


class RefusedEventError(Exception):
    """Raised by a handler for an event it must never apply (not a failure to retry):
    for example a `content_key` outside the lesson's own prefix. Nothing the handler
    wrote is kept; the message is dead-lettered at once with this reason."""


class Handlers:
    """A service's event handlers, each registered for the event type it takes.

    ```python
    handlers = Handlers()

    @handlers.on(LessonPublished)
    async def on_lesson_published(
        session: AsyncSession, envelope: Envelope[LessonPublished]
    ) -> None: ...
    ```
    """

    def __init__(self) -> None:
        self._by_type: dict[type[Event], Handler[Any]] = {}
        self._prepared: dict[type[Event], Prepare[Any]] = {}

    def on(self, event_type: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        def register(handler: Handler[E]) -> Handler[E]:
            self._check_free(event_type)
            self._by_type[event_type] = handler
            return handler

        return register

    def prepared(self, event_type: type[E]) -> Callable[[Prepare[E]], Prepare[E]]:
        """Register a two-step handler: slow work first, then its writes in the inbox
        transaction. The slow half is skipped for an event handled before, and runs
        again on each attempt; a failure in either half is a failed attempt.

        ```python
        @handlers.prepared(LessonPublished)
        async def on_lesson_published(envelope: Envelope[LessonPublished]) -> Apply:
            notes = await generate(envelope.data)  # no transaction is open here

            async def apply(session: AsyncSession) -> None:
                await store(session=session, notes=notes)

            return apply
        ```
        """

        def register(prepare: Prepare[E]) -> Prepare[E]:
            self._check_free(event_type)
            self._prepared[event_type] = prepare

            async def handler(session: AsyncSession, envelope: Envelope[E]) -> None:
                await (await prepare(envelope))(session)

            self._by_type[event_type] = handler
            return prepare

        return register

    def _check_free(self, event_type: type[Event]) -> None:
        if event_type in self._by_type:
            raise ValueError(f"{event_type.__name__} already has a handler")

    def get(self, event_type: type[Event]) -> Handler[Any] | None:
        return self._by_type.get(event_type)

    def preparation(self, event_type: type[Event]) -> Prepare[Any] | None:
        """The slow half of a two-step handler, if `event_type` has one."""
        return self._prepared.get(event_type)

    @property
    def event_types(self) -> tuple[type[Event], ...]:
        return tuple(self._by_type)

    def __len__(self) -> int:
        return len(self._by_type)
