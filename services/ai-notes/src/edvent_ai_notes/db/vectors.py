"""pgvector through pgvector-python: its SQLAlchemy column type and its psycopg adapter,
so embeddings travel in pgvector's binary form, not as text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pgvector import Vector
from pgvector.psycopg import register_vector_async
from pgvector.sqlalchemy import VECTOR
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class Embedding(VECTOR):
    """pgvector's `vector(n)`, bound as pgvector's `Vector`: the psycopg dumper that
    `register_vectors` installs sends that binary, where `VECTOR` itself binds text."""

    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: Sequence[float] | None) -> Vector | None:
            return None if value is None else as_vector(value)

        return process


def as_vector(values: Sequence[float]) -> Vector:
    """A query parameter psycopg sends binary (on an engine `register_vectors` set up)."""
    return Vector(list(values))


def register_vectors(engine: AsyncEngine) -> None:
    """pgvector's psycopg dumpers and loaders on every connection the engine opens (as
    pgvector-python's README does it for SQLAlchemy on psycopg 3)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.run_async(register_vector_async)
