"""identity's use cases. Each opens its own unit of work with `transaction(sessions)`,
the one place that commits; repositories in `db/` only run statements."""
