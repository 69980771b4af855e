"""lanterna: self-hosted LLM web agents in real headless browsers.

``from lanterna import Client`` (or ``NotteClient``; ``AsyncClient`` for async code) gives the
SDK; it is imported on first use, so server processes that only need the lower layers do not
load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lanterna.sdk import (
        ActionFailedError,
        Agent,
        AgentFallback,
        AgentResult,
        AgentState,
        AgentStatus,
        AgentStep,
        AsyncAgent,
        AsyncClient,
        AsyncSession,
        BatchRemoteAgent,
        Client,
        DataSpace,
        ExecutionResult,
        NotteClient,
        Observation,
        Session,
        SessionResponse,
    )

__version__ = "0.1.0"

__all__ = [
    "ActionFailedError",
    "Agent",
    "AgentFallback",
    "AgentResult",
    "AgentState",
    "AgentStatus",
    "AgentStep",
    "AsyncAgent",
    "AsyncClient",
    "AsyncSession",
    "BatchRemoteAgent",
    "Client",
    "DataSpace",
    "ExecutionResult",
    "NotteClient",
    "Observation",
    "Session",
    "SessionResponse",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lanterna import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'lanterna' has no attribute {name!r}")
