"""ai-notes's use cases, one module per capability.

The transaction rule: a use case takes the session its caller owns (keyword-only
`session=`) and neither opens nor commits a transaction. Routes own the unit of
work (`api/deps.py`), consumers hand over their inbox transaction, the CLI opens one
with `edvent_platform.db.transaction`. Repositories in `db/` only run statements.
"""
