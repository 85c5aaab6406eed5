"""ai-notes' own Prometheus metrics (served on /metrics with the platform's): what the
LLM provider costs and how the limiters in front of it behave."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import Span
from prometheus_client import Counter, Histogram

from edvent_events import tracing

LLM_TOKENS = Counter(
    "ai_notes_llm_tokens_total",
    "Tokens spent at the provider: prompt and completion as it reports them, embedding"
    " estimated at 4 characters a token",
    ["provider", "kind"],
)
LLM_REQUESTS = Counter(
    "ai_notes_llm_requests_total",
    "Calls to the provider by operation (embed: a lesson's chunks, query: a search"
    " question, generate: notes) and outcome",
    ["provider", "operation", "outcome"],
)
LLM_LATENCY = Histogram(
    "ai_notes_llm_request_duration_seconds",
    "How long a call to the provider took, by operation (embed, query, generate), failed"
    " ones included",
    ["provider", "operation"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
)
LIMITER_WAIT = Histogram(
    "ai_notes_limiter_wait_seconds",
    "Time spent waiting for a limiter's slot (generation, search)",
    ["limiter"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LIMITER_REFUSED = Counter(
    "ai_notes_limiter_refused_total",
    "Requests refused by a limit: search shed (503), regenerate over its rate (429)",
    ["limiter"],
)
QUERY_CACHE = Counter(
    "ai_notes_query_embedding_cache_total",
    "Search questions' embeddings by cache result",
    ["result"],
)
BUDGET_POSTPONED = Counter(
    "ai_notes_budget_postponed_total",
    "Notes left pending because the provider's daily token budget was spent",
    ["provider"],
)


@contextmanager
def llm_call(provider: str, operation: str, **attributes: object) -> Iterator[Span]:
    """One call to the provider: its span (`ai_notes.<operation>`, the HTTP call of a
    remote provider beneath it) and its latency. The caller counts the outcome."""
    started = time.perf_counter()
    with tracing.span(
        f"ai_notes.{operation}",
        attributes={"gen_ai.provider.name": provider, "gen_ai.operation.name": operation}
        | {key: value for key, value in attributes.items() if value is not None},
    ) as span:
        try:
            yield span
        finally:
            LLM_LATENCY.labels(provider, operation).observe(time.perf_counter() - started)
