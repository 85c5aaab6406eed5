"""The events identity consumes: one module per topic, each registering on `handlers`."""

from edvent_events.consumer import Handlers

handlers = Handlers()

# Imported for their registrations on `handlers`.
from edvent_identity.consumers import courses, exports  # noqa: E402, F401
