"""Ralph's LRS app as the local stack runs it (in Ralph's own environment, not the
workspace's): `uvicorn edvent_ralph:app --app-dir deploy/local/ralph`.

Ralph 5.1.0's file-system LRS backend writes each POST with the CREATE operation,
which refuses a file that exists: after the first batch every POST of new statements
would answer 500. Appending is what an LRS file of statements needs, and the backend
supports it (`BaseOperationType.APPEND`); only the default is changed here.
"""

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402

__all__ = ["app"]
