"""``Api``: one typed async method per server endpoint, and the ``Context`` a client shares.

Sessions, agents, batches and fallbacks talk to the server only through an ``Api`` handed to
them (inside a ``Context``), never through the client that made them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlsplit

from websockets.asyncio.client import ClientConnection

from lanterna.models.actions import Action, ExecutionResult
from lanterna.models.observation import Observation
from lanterna.models.scrape import DataSpace
from lanterna.models.vault import Credentials, CredentialSite, CreditCard, VaultInfo
from lanterna.sdk.base import Call, ClientClosedError, read_json
from lanterna.sdk.loop import BackgroundLoop
from lanterna.sdk.results import AgentStatus
from lanterna.sdk.transport import AsyncTransport
from lanterna.wire import (
    AgentStartRequest,
    DebugResponse,
    FileInfo,
    FileLinkResponse,
    FileListResponse,
    FileUploadResponse,
    ObserveRequest,
    OffsetResponse,
    Page,
    ProfileCreateRequest,
    ProfileDeleteResponse,
    ProfileResponse,
    ScrapeRequest,
    SessionResponse,
    SessionStartRequest,
    VaultCardResponse,
    VaultCredentialsListResponse,
    VaultCredentialsResponse,
    VaultStatusResponse,
)

T = TypeVar("T")


def _q(part: str) -> str:
    return quote(part, safe="")


def _listing(only_active: bool | None, page: int, page_size: int) -> dict[str, Any]:
    params: dict[str, Any] = {"page": page, "page_size": page_size}
    if only_active is not None:
        params["only_active"] = only_active
    return params


class Api:
    """The server's endpoints as typed async methods, over one ``AsyncTransport``."""

    def __init__(self, transport: AsyncTransport) -> None:
        self.transport = transport

    @property
    def server_url(self) -> str:
        return self.transport.server_url

    async def health(self) -> dict[str, Any]:
        call: Call[Any] = Call("GET", "/health")
        body = read_json(call, 200, await self.transport.fetch(call))
        return body if isinstance(body, dict) else {}

    # --- sessions -------------------------------------------------------------------------------

    async def start_session(self, request: SessionStartRequest) -> SessionResponse:
        body = request.model_dump(mode="json", exclude_none=True)
        return await self.transport.send(Call("POST", "/sessions/start", SessionResponse, json_body=body))

    async def session(self, session_id: str) -> SessionResponse:
        return await self.transport.send(Call("GET", f"/sessions/{session_id}", SessionResponse))

    async def stop_session(self, session_id: str) -> SessionResponse:
        return await self.transport.send(Call("DELETE", f"/sessions/{session_id}/stop", SessionResponse))

    async def list_sessions(self, *, only_active: bool, page: int, page_size: int) -> list[SessionResponse]:
        params = _listing(only_active, page, page_size)
        return (
            await self.transport.send(Call("GET", "/sessions", Page[SessionResponse], params=params))
        ).items

    async def session_replay(self, session_id: str) -> bytes:
        return await self.transport.fetch(Call("GET", f"/sessions/{session_id}/replay"))

    async def observe(self, session_id: str, request: ObserveRequest) -> Observation:
        body = request.model_dump(exclude_none=True)
        path = f"/sessions/{session_id}/page/observe"
        return await self.transport.send(Call("POST", path, Observation, json_body=body))

    async def execute(self, session_id: str, action: Action) -> ExecutionResult:
        path = f"/sessions/{session_id}/page/execute"
        return await self.transport.send(Call("POST", path, ExecutionResult, json_body=action.wire()))

    async def scrape(self, session_id: str, request: ScrapeRequest) -> DataSpace:
        body = request.model_dump(exclude_none=True)
        return await self.transport.send(
            Call("POST", f"/sessions/{session_id}/page/scrape", DataSpace, json_body=body)
        )

    async def debug(self, session_id: str) -> DebugResponse:
        return await self.transport.send(Call("GET", f"/sessions/{session_id}/debug", DebugResponse))

    async def offset(self, session_id: str) -> int:
        return (
            await self.transport.send(Call("GET", f"/sessions/{session_id}/offset", OffsetResponse))
        ).offset

    # --- agents ---------------------------------------------------------------------------------

    async def start_agent(self, request: AgentStartRequest) -> AgentStatus:
        body = request.model_dump(mode="json", exclude_none=True)
        return await self.transport.send(Call("POST", "/agents/start", AgentStatus, json_body=body))

    async def agent_status(self, agent_id: str) -> AgentStatus:
        return await self.transport.send(Call("GET", f"/agents/{agent_id}", AgentStatus))

    async def stop_agent(self, agent_id: str, session_id: str | None = None) -> AgentStatus:
        params = {"session_id": session_id} if session_id else None
        return await self.transport.send(
            Call("DELETE", f"/agents/{agent_id}/stop", AgentStatus, params=params)
        )

    async def list_agents(self, *, only_active: bool, page: int, page_size: int) -> list[AgentStatus]:
        params = _listing(only_active, page, page_size)
        return (await self.transport.send(Call("GET", "/agents", Page[AgentStatus], params=params))).items

    async def agent_replay(self, agent_id: str) -> bytes:
        return await self.transport.fetch(Call("GET", f"/agents/{agent_id}/replay"))

    def agent_logs(self, agent_id: str, session_id: str) -> AbstractAsyncContextManager[ClientConnection]:
        """The agent's live log WebSocket: every step so far, then each new one, then ``agent_stop``."""
        return self.transport.websocket(f"/agents/{agent_id}/debug/logs", {"session_id": session_id})

    # --- files ----------------------------------------------------------------------------------

    async def upload(self, name: str, content: bytes) -> FileUploadResponse:
        path = f"/storage/uploads/{_q(name)}"
        return await self.transport.send(Call("POST", path, FileUploadResponse, content=content))

    async def uploads(self) -> list[FileInfo]:
        return (await self.transport.send(Call("GET", "/storage/uploads", FileListResponse))).files

    async def downloads(self, session_id: str) -> list[FileInfo]:
        path = f"/storage/{_q(session_id)}/downloads"
        return (await self.transport.send(Call("GET", path, FileListResponse))).files

    async def add_download(self, session_id: str, name: str, content: bytes) -> FileUploadResponse:
        path = f"/storage/{_q(session_id)}/downloads/{_q(name)}"
        return await self.transport.send(Call("POST", path, FileUploadResponse, content=content))

    async def download(self, session_id: str, name: str) -> bytes:
        path = f"/storage/{_q(session_id)}/downloads/{_q(name)}"
        link = await self.transport.send(Call("GET", path, FileLinkResponse))
        parts = urlsplit(link.url)  # the server's own link: fetched from the server this client uses
        return await self.transport.fetch(Call("GET", f"{parts.path}?{parts.query}"))

    # --- profiles -------------------------------------------------------------------------------

    async def create_profile(self, name: str | None) -> ProfileResponse:
        body = ProfileCreateRequest(name=name).model_dump(exclude_none=True)
        return await self.transport.send(Call("POST", "/profiles/create", ProfileResponse, json_body=body))

    async def profile(self, profile_id: str) -> ProfileResponse:
        return await self.transport.send(Call("GET", f"/profiles/{_q(profile_id)}", ProfileResponse))

    async def list_profiles(self, *, name: str | None, page: int, page_size: int) -> list[ProfileResponse]:
        params = _listing(None, page, page_size)
        if name is not None:
            params["name"] = name
        return (
            await self.transport.send(Call("GET", "/profiles", Page[ProfileResponse], params=params))
        ).items

    async def delete_profile(self, profile_id: str) -> bool:
        call = Call("DELETE", f"/profiles/{_q(profile_id)}", ProfileDeleteResponse)
        return (await self.transport.send(call)).success

    # --- vaults ---------------------------------------------------------------------------------

    async def create_vault(self, name: str) -> VaultInfo:
        return await self.transport.send(Call("POST", "/vaults/create", VaultInfo, json_body={"name": name}))

    async def list_vaults(self, *, page: int, page_size: int) -> list[VaultInfo]:
        params = _listing(None, page, page_size)
        return (await self.transport.send(Call("GET", "/vaults", Page[VaultInfo], params=params))).items

    async def add_credentials(self, vault_id: str, url: str, credentials: Credentials) -> None:
        body = {"url": url, "credentials": credentials.model_dump(exclude_none=True)}
        path = f"/vaults/{_q(vault_id)}/credentials"
        await self.transport.send(Call("POST", path, VaultStatusResponse, json_body=body))

    async def credentials(self, vault_id: str, url: str) -> Credentials:
        path = f"/vaults/{_q(vault_id)}/credentials"
        got = await self.transport.send(Call("GET", path, VaultCredentialsResponse, params={"url": url}))
        return got.credentials

    async def list_credentials(self, vault_id: str) -> list[CredentialSite]:
        got = await self.transport.send(Call("GET", f"/vaults/{_q(vault_id)}", VaultCredentialsListResponse))
        return got.credentials

    async def delete_credentials(self, vault_id: str, url: str) -> None:
        path = f"/vaults/{_q(vault_id)}/credentials"
        await self.transport.send(Call("DELETE", path, VaultStatusResponse, params={"url": url}))

    async def set_credit_card(self, vault_id: str, card: CreditCard) -> None:
        body = {"credit_card": card.model_dump()}
        await self.transport.send(
            Call("POST", f"/vaults/{_q(vault_id)}/card", VaultStatusResponse, json_body=body)
        )

    async def credit_card(self, vault_id: str) -> CreditCard:
        got = await self.transport.send(Call("GET", f"/vaults/{_q(vault_id)}/card", VaultCardResponse))
        return got.credit_card

    async def delete_credit_card(self, vault_id: str) -> None:
        await self.transport.send(Call("DELETE", f"/vaults/{_q(vault_id)}/card", VaultStatusResponse))

    async def delete_vault(self, vault_id: str) -> None:
        await self.transport.send(Call("DELETE", f"/vaults/{_q(vault_id)}", VaultStatusResponse))


class Stoppable(Protocol):
    async def stop(self) -> None: ...


@dataclass(eq=False)
class Context:
    """What a client shares with the sessions, agents, batches and fallbacks it makes.

    ``loop`` is set for the blocking ``Client``: its calls run on that loop's thread. For the
    ``AsyncClient`` it is None and every call runs in the caller's event loop.
    """

    api: Api
    raise_on_failure: bool = True
    loop: BackgroundLoop | None = None
    postponed: set[Stoppable] = field(default_factory=set)
    """Sessions whose stop waits for an agent run created in their block; stopped at close."""
    _background: set[asyncio.Task[Any]] = field(default_factory=set, init=False, repr=False)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Await ``work`` where this client does its I/O (its loop, or the caller's)."""
        if self.loop is None:
            return await work
        return await self.loop.run_async(work)

    def block(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` to its end from blocking code (the blocking ``Client`` only)."""
        if self.loop is None:
            work.close()
            raise RuntimeError("objects of an AsyncClient are awaited: use `await` / `async with`")
        return self.loop.run_sync(work)

    def fire(self, work: Coroutine[Any, Any, Any]) -> None:
        """Start a clean-up without waiting for it (from a garbage-collection callback)."""
        if self.loop is not None:
            self.loop.fire(work)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # no loop to run it on: the session ends by its idle timeout
            work.close()
            return
        task = running.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def check_open(self) -> None:
        if self.api.transport.closed:
            raise ClientClosedError("Client" if self.loop is not None else "AsyncClient")
