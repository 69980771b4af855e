"""lanterna's Python SDK: ``Client`` (alias ``NotteClient``) for blocking code, ``AsyncClient`` for
async code; sessions, agents, batches, fallbacks.

One async implementation on httpx and websockets: ``AsyncClient`` runs it in the caller's event
loop, ``Client`` on a loop of its own (every blocking method has an ``a``-prefixed async twin).
"""

from lanterna.models.actions import ExecutionResult
from lanterna.models.agent import AgentState, AgentStep
from lanterna.models.observation import Observation
from lanterna.models.scrape import DataSpace
from lanterna.sdk.agents import Agent, AsyncAgent, BatchRemoteAgent
from lanterna.sdk.base import ClientClosedError
from lanterna.sdk.client import AsyncClient, Client, NotteClient
from lanterna.sdk.fallback import AgentFallback
from lanterna.sdk.results import ActionFailedError, AgentResult, AgentStatus, ScrapeFailedError
from lanterna.sdk.sessions import AsyncSession, Session
from lanterna.wire import SessionResponse

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
    "ClientClosedError",
    "DataSpace",
    "ExecutionResult",
    "NotteClient",
    "Observation",
    "ScrapeFailedError",
    "Session",
    "SessionResponse",
]
