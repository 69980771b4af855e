"""The lifecycle states a session or an agent record can be in, as the wire spells them."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

SessionStatus = Literal["active", "closed", "error", "timed_out"]
AgentStatusValue = Literal["active", "closed"]


class CloseReason(StrEnum):
    """Why a browser session ended, in the words users read (``session closed: idle timeout``).

    The pool and the runs layer set these; the value is what a session's ``error`` and the
    messages about a closed session say.
    """

    closed = "closed"  # released with no more specific reason
    stopped = "stopped"  # by its owner (DELETE /sessions/{id}/stop)
    idle_timeout = "idle timeout"
    max_duration = "max duration reached"
    browser_exited = "the browser exited unexpectedly"
    browser_gone = "its browser is no longer running"
    not_prepared = "could not be prepared"
    profile_not_loaded = "could not load its profile"
    not_saved = "could not be saved"
    pool_closed = "browser pool closed"
    shutdown = "server shut down"
    revoked = "API key revoked"

    @property
    def expired(self) -> bool:
        """Ended by its own time limits (the session's status is then ``timed_out``)."""
        return self in (CloseReason.idle_timeout, CloseReason.max_duration)
