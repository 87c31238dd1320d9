"""How a stage's last attempt ended: one enum, used by the runner, the manifest and the views."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A stage record's status; the value is what manifest.json holds."""

    PENDING = "pending"  # declared, never attempted
    RUNNING = "running"  # an attempt is under way (or its owner died: see the lock)
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"  # up to date in this run; its outputs are the last success's
    FAILED = "failed"  # the stage's program failed, or the user's input was wrong
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM: resumable
    CRASHED = "crashed"  # an internal error of swiftpipe: exit 3, crash log, no resume

    def __str__(self) -> str:
        return self.value

    @property
    def usable(self) -> bool:
        """Whether the record's outputs may feed downstream stages."""
        return self in (Status.SUCCEEDED, Status.SKIPPED)

    @property
    def resumable(self) -> bool:
        """Whether a training stage may continue this attempt from its newest checkpoint."""
        return self in (Status.FAILED, Status.INTERRUPTED)
