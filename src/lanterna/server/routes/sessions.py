"""Session routes: lifecycle, page operations, cookies and debugging (``/sessions/...``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Request

from lanterna.errors import InvalidRequestError, NotFoundError
from lanterna.models.actions import Action, ExecutionResult
from lanterna.models.observation import Observation, TabInfo
from lanterna.models.scrape import DataSpace
from lanterna.runs.sessions import TabTarget
from lanterna.server.auth import CurrentRuntime, Tenant, presented_key
from lanterna.server.routes.listing import PageNumber, PageSize
from lanterna.wire import (
    CookiesBody,
    CookiesSetResponse,
    DebugResponse,
    DebugWebSockets,
    EgressEntryOut,
    EgressLog,
    ErrorBody,
    ObserveRequest,
    OffsetResponse,
    Page,
    ScrapeRequest,
    SessionResponse,
    SessionStartRequest,
    TabDebug,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
    404: {"model": ErrorBody, "description": "No such session for this API key"},
    422: {"model": ErrorBody, "description": "Invalid body or parameters; the message names each field"},
}
_CLOSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The session is closed; start a new one"}
}

router = APIRouter(prefix="/sessions", tags=["sessions"], responses=_ERRORS)


@router.post("/start", response_model=SessionResponse, responses={503: {"model": ErrorBody}})
async def start_session(
    runtime: CurrentRuntime, tenant: Tenant, request: Annotated[SessionStartRequest | None, Body()] = None
) -> SessionResponse:
    """Start a browser session. Unknown or unsupported options are refused with a 422 naming them."""
    request = request or SessionStartRequest()
    if problems := request.unsupported():
        raise InvalidRequestError("unsupported session options: " + "; ".join(problems))
    return SessionResponse.of(await runtime.sessions.start(tenant, request.session_request()))


@router.get("", response_model=Page[SessionResponse])
@router.get("/", response_model=Page[SessionResponse], include_in_schema=False)
async def list_sessions(
    runtime: CurrentRuntime,
    tenant: Tenant,
    only_active: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[SessionResponse]:
    """Your sessions, newest first."""
    listed = await runtime.sessions.list(tenant, only_active=only_active, page=page, page_size=page_size)
    return listed.map(SessionResponse.of)


@router.get("/{session_id}", response_model=SessionResponse)
async def get_session(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> SessionResponse:
    """One session: its status, options, times, and ``error`` once it ended for a reason."""
    return SessionResponse.of(await runtime.sessions.get(tenant, session_id))


@router.delete("/{session_id}/stop", response_model=SessionResponse)
async def stop_session(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> SessionResponse:
    """Close the session and its browser. Idempotent: the answer's status is always ``closed``;
    ``error`` tells what closed it when it was not this call (e.g. ``idle timeout``)."""
    return SessionResponse.of(await runtime.sessions.stop(tenant, session_id))


@router.get("/{session_id}/offset", response_model=OffsetResponse)
async def session_offset(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> OffsetResponse:
    """Position in the session's trajectory: actions executed plus agent steps taken."""
    return OffsetResponse(offset=await runtime.sessions.offset(tenant, session_id))


def _ws_base(request: Request) -> str:
    base = str(request.base_url)
    return (
        "wss://" + base.removeprefix("https://")
        if base.startswith("https://")
        else "ws://" + base.removeprefix("http://")
    )


def _token_query(request: Request) -> str:
    # Never the dashboard's cookie: its key stays out of reach of page scripts.
    return f"?token={quote(presented_key(request, cookie=False) or '', safe='')}"


def _tab_debug(request: Request, session_id: str, tab: TabTarget) -> TabDebug:
    url = f"{_ws_base(request)}sessions/{session_id}/cdp/page/{tab.target_id}{_token_query(request)}"
    return TabDebug(
        metadata=TabInfo(tab_id=tab.index, title=tab.title, url=tab.url), debug_url=url, ws_url=url
    )


@router.get("/{session_id}/debug", response_model=DebugResponse, responses=_CLOSED)
async def debug_session(
    session_id: str, request: Request, runtime: CurrentRuntime, tenant: Tenant
) -> DebugResponse:
    """WebSocket URLs for the session. ``ws.cdp`` is a Chrome DevTools Protocol endpoint served by
    lanterna (``playwright.chromium.connect_over_cdp(url)`` works); ``recording`` streams its
    frames live (JPEG, binary messages); ``logs`` is not served yet."""
    tabs = await runtime.sessions.tabs(tenant, session_id)
    base = f"{_ws_base(request)}sessions/{session_id}"
    token = _token_query(request)
    cdp = f"{base}/cdp{token}"
    return DebugResponse(
        debug_url=cdp,
        ws=DebugWebSockets(cdp=cdp, recording=f"{base}/recording{token}", logs=f"{base}/logs{token}"),
        tabs=[_tab_debug(request, session_id, t) for t in tabs],
    )


@router.get("/{session_id}/debug/tab", response_model=TabDebug, responses=_CLOSED)
async def debug_tab(
    session_id: str,
    request: Request,
    runtime: CurrentRuntime,
    tenant: Tenant,
    tab_idx: Annotated[
        int | None, Query(ge=0, le=1000, description="tab index; the last tab when left out")
    ] = None,
) -> TabDebug:
    """The CDP URL of one tab."""
    tabs = await runtime.sessions.tabs(tenant, session_id)
    index = len(tabs) - 1 if tab_idx is None else tab_idx
    if not 0 <= index < len(tabs):
        raise NotFoundError(
            f"tab {index} does not exist; the session has {len(tabs)} tab(s), numbered from 0"
        )
    return _tab_debug(request, session_id, tabs[index])


@router.get("/{session_id}/egress", response_model=EgressLog, responses=_CLOSED)
async def egress_log(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> EgressLog:
    """Requests of the session's pages that the egress policy refused (navigations and
    subresources, the latest 100), each with the rule and the setting that changes it."""
    refusals = await runtime.sessions.refusals(tenant, session_id)
    return EgressLog(
        refused=[EgressEntryOut(target=r.target, rule=r.rule.value, message=r.message) for r in refusals]
    )


@router.get("/{session_id}/cookies", response_model=CookiesBody, responses=_CLOSED)
async def get_cookies(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> CookiesBody:
    """Every cookie of the session's browser."""
    return CookiesBody(cookies=await runtime.sessions.cookies(tenant, session_id))


@router.post("/{session_id}/cookies", response_model=CookiesSetResponse, responses=_CLOSED)
async def set_cookies(
    session_id: str, body: CookiesBody, runtime: CurrentRuntime, tenant: Tenant
) -> CookiesSetResponse:
    """Add cookies to the session's browser."""
    count = await runtime.sessions.set_cookies(tenant, session_id, body.cookies)
    return CookiesSetResponse(success=True, message=f"set {count} cookie(s)")


@router.post("/{session_id}/page/observe", response_model=Observation, responses=_CLOSED)
async def observe(
    session_id: str,
    runtime: CurrentRuntime,
    tenant: Tenant,
    request: Annotated[ObserveRequest | None, Body()] = None,
) -> Observation:
    """The page as an agent sees it: metadata, interactive elements with ids, and a text rendering.
    ``instructions`` puts the most relevant elements first, ``max_nb_actions`` caps them, and a
    screenshot comes as the session's ``screenshot_type`` says (``"screenshot": false`` for none)."""
    request = request or ObserveRequest()
    return await runtime.sessions.observe(
        tenant,
        session_id,
        max_elements=request.max_nb_actions,
        instructions=request.instructions,
        screenshot=request.screenshot,
    )


@router.post("/{session_id}/page/execute", response_model=ExecutionResult, responses=_CLOSED)
async def execute(
    session_id: str, action: Annotated[Action, Body()], runtime: CurrentRuntime, tenant: Tenant
) -> ExecutionResult:
    """Run one action; the body is the action itself (``{"type": "click", "selector": "#buy"}``).
    A failed action is a 200 with ``success: false`` and a message saying what to do."""
    return await runtime.sessions.execute(tenant, session_id, action)


@router.post("/{session_id}/page/scrape", response_model=DataSpace, responses=_CLOSED)
async def scrape(
    session_id: str,
    runtime: CurrentRuntime,
    tenant: Tenant,
    request: Annotated[ScrapeRequest | None, Body()] = None,
) -> DataSpace:
    """The page as markdown, or its images. With ``response_format`` (a JSON schema) or
    ``instructions``, ``structured`` is ``{success, error, data}``: from the configured LLM (its JSON
    repaired and checked against the schema, re-asked once), or offline from the page's labelled values,
    definition lists, tables, lists, emails, phones and prices; fields it cannot find are named in
    ``error`` and ``success`` is true only when every required field was filled."""
    return await runtime.sessions.scrape(tenant, session_id, (request or ScrapeRequest()).scrape_action())
