"""The events assessment consumes: one module per topic, each registering on `handlers`."""

from edvent_events.consumer import Handlers

handlers = Handlers()

# Imported for their registrations on `handlers`.
from edvent_assessment.consumers import attempts, courses, users  # noqa: E402, F401
