"""lanterna's Python SDK: ``Client`` (alias ``NotteClient``), sessions, agents, batches, fallbacks.

One async implementation on httpx and websockets; every blocking method has an async twin.
"""

from lanterna.models.actions import ExecutionResult
from lanterna.models.agent import AgentState, AgentStep
from lanterna.models.observation import Observation
from lanterna.models.scrape import DataSpace
from lanterna.sdk.agents import Agent, BatchRemoteAgent
from lanterna.sdk.client import Client, NotteClient
from lanterna.sdk.fallback import AgentFallback
from lanterna.sdk.results import ActionFailedError, AgentResult, AgentStatus, ScrapeFailedError
from lanterna.sdk.sessions import Session
from lanterna.wire import SessionResponse

__all__ = [
    "ActionFailedError",
    "Agent",
    "AgentFallback",
    "AgentResult",
    "AgentState",
    "AgentStatus",
    "AgentStep",
    "BatchRemoteAgent",
    "Client",
    "DataSpace",
    "ExecutionResult",
    "NotteClient",
    "Observation",
    "ScrapeFailedError",
    "Session",
    "SessionResponse",
]
