"""Every event type Edvent publishes, one module per producing service."""

from edvent_events.catalog import identity

__all__ = ["identity"]
