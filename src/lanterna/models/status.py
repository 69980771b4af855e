"""The lifecycle states a session or an agent record can be in, as the wire spells them."""

from __future__ import annotations

from typing import Literal

SessionStatus = Literal["active", "closed", "error", "timed_out"]
AgentStatusValue = Literal["active", "closed"]
