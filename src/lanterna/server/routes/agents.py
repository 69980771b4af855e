"""Agent routes (``/agents/...``): start, status, list, stop, the live log WebSocket, workflow code."""

from __future__ import annotations

from fastapi import APIRouter, Response, WebSocket
from pydantic import TypeAdapter

from lanterna.errors import InvalidRequestError, LanternaError
from lanterna.models.agent import AgentEnded
from lanterna.runs.agents import AgentService, WorkflowCode
from lanterna.server.auth import CurrentRuntime, Tenant, authenticate, runtime_of
from lanterna.server.errors import refuse_websocket
from lanterna.server.revocation import serve_until_revoked
from lanterna.server.routes.listing import PageNumber, PageSize
from lanterna.server.streams import serve_until_either_ends
from lanterna.wire import (
    AgentStartRequest,
    AgentStatusResponse,
    AgentStopMessage,
    ErrorBody,
    Page,
)

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
    404: {"model": ErrorBody, "description": "No such agent (or session) for this API key"},
    422: {"model": ErrorBody, "description": "Invalid body or parameters; the message names each field"},
}

_STATUS_JSON = TypeAdapter(AgentStatusResponse)  # byte for byte what response_model would send

router = APIRouter(prefix="/agents", tags=["agents"], responses=_ERRORS)


@router.post(
    "/start",
    response_model=AgentStatusResponse,
    responses={409: {"model": ErrorBody, "description": "The session is closed or already runs an agent"}},
)
async def start_agent(
    request: AgentStartRequest, runtime: CurrentRuntime, tenant: Tenant
) -> AgentStatusResponse:
    """Start an agent on one of your sessions. It runs in the background: follow it with
    ``GET /agents/{id}`` or the WebSocket ``/agents/{id}/debug/logs``."""
    vault = await runtime.vaults.for_agent(tenant, request.vault_id) if request.vault_id else None
    if problems := request.unsupported():
        raise InvalidRequestError("; ".join(problems))
    return AgentStatusResponse.of(await runtime.agents.start(tenant, request.agent_request(), vault=vault))


@router.get("", response_model=Page[AgentStatusResponse])
@router.get("/", response_model=Page[AgentStatusResponse], include_in_schema=False)
async def list_agents(
    runtime: CurrentRuntime,
    tenant: Tenant,
    only_active: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[AgentStatusResponse]:
    """Your agents, newest first, without their steps (``GET /agents/{id}`` has them)."""
    listed = await runtime.agents.list(tenant, only_active=only_active, page=page, page_size=page_size)
    return listed.map(AgentStatusResponse.of)


@router.get("/{agent_id}", response_model=AgentStatusResponse)
async def get_agent(agent_id: str, runtime: CurrentRuntime, tenant: Tenant) -> Response:
    """The agent with its steps so far; ``success`` and ``answer`` are null until it is closed."""
    # Serialised here once: a Response skips FastAPI's second validation of the returned model.
    status = AgentStatusResponse.of(await runtime.agents.status(tenant, agent_id))
    return Response(_STATUS_JSON.dump_json(status, by_alias=True), media_type="application/json")


@router.delete("/{agent_id}/stop", response_model=AgentStatusResponse)
async def stop_agent(agent_id: str, runtime: CurrentRuntime, tenant: Tenant) -> AgentStatusResponse:
    """Stop the agent once its current action has finished; answers with its final status.
    Stopping a finished agent returns its status unchanged."""
    return AgentStatusResponse.of(await runtime.agents.stop(tenant, agent_id))


@router.get("/{agent_id}/workflow/code", response_model=WorkflowCode)
async def workflow_code(agent_id: str, runtime: CurrentRuntime, tenant: Tenant) -> WorkflowCode:
    """The agent's browser actions as a Python script (lanterna SDK) and as JSON."""
    return await runtime.agents.workflow_code(tenant, agent_id)


async def _send_events(websocket: WebSocket, agents: AgentService, tenant: str, agent_id: str) -> None:
    async for event in agents.subscribe(tenant, agent_id):
        if isinstance(event, AgentEnded):
            await websocket.send_text(
                AgentStopMessage(agent=AgentStatusResponse.of(event.agent)).model_dump_json()
            )
        else:
            await websocket.send_text(event.model_dump_json())


async def _until_disconnect(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


@router.websocket("/{agent_id}/debug/logs")
async def agent_logs(websocket: WebSocket, agent_id: str) -> None:
    """Every step of the agent as a JSON text frame (past ones first, then live ones), then
    ``{"status": "agent_stop", "agent": <final status>}``, then the server closes.
    Authenticate with ``?token=<api key>``."""
    agents = runtime_of(websocket).agents
    try:
        tenant = await authenticate(websocket)
        await agents.status(tenant, agent_id)  # refuse unknown and other tenants' agents before accepting
    except LanternaError as exc:
        await refuse_websocket(websocket, exc.status, exc.message)
        return
    await serve_until_revoked(websocket, tenant, "agent logs", _stream(websocket, agents, tenant, agent_id))


async def _stream(websocket: WebSocket, agents: AgentService, tenant: str, agent_id: str) -> None:
    """Accept, send the agent's events until its end (or the client leaves), then close."""
    await websocket.accept()
    await serve_until_either_ends(
        websocket,
        _send_events(websocket, agents, tenant, agent_id),
        _until_disconnect(websocket),
        close_reason="agent finished",
    )
