"""Outside systems other than the database: the object store for lesson bodies."""
