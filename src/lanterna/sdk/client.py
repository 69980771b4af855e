"""``Client``: the entry point of lanterna's SDK (also importable as ``NotteClient``)."""

from __future__ import annotations

import asyncio
import atexit
import builtins
import contextlib
import os
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from lanterna.errors import AuthenticationError, InvalidRequestError, LanternaError
from lanterna.sdk import agents, fallback, sessions
from lanterna.sdk.loop import BackgroundLoop
from lanterna.sdk.profiles import ProfilesApi
from lanterna.sdk.results import AgentStatus
from lanterna.sdk.transport import Transport
from lanterna.sdk.vaults import Vault, VaultsApi
from lanterna.wire import (
    FileInfo,
    FileLinkResponse,
    FileListResponse,
    FileUploadResponse,
    Page,
    SessionResponse,
)

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


class Client:
    """A connection to a lanterna server.

    ``Client()`` reads the key from ``LANTERNA_API_KEY`` (or ``NOTTE_API_KEY``) and the server
    from ``LANTERNA_API_URL`` (or ``NOTTE_API_URL``, default ``http://127.0.0.1:8000``).
    ``raise_on_failure`` is the default for ``session.execute``: raise ``ActionFailedError`` when
    an action fails (True, as notte's client does) or return the failed result (False).

    The client owns a background thread with an event loop that carries all its requests, so
    its objects work the same from sync code, from async code, and from sync calls made inside
    async functions. ``close()`` (or leaving ``with Client() as client:``) releases it; sessions
    whose stop was postponed are stopped then, and at interpreter exit.
    """

    def __init__(
        self,
        api_key: str | None = None,
        server_url: str | None = None,
        *,
        raise_on_failure: bool = True,
        timeout: float = 60.0,
    ) -> None:
        key = api_key or _env("LANTERNA_API_KEY", "NOTTE_API_KEY")
        if not key:
            raise AuthenticationError(
                "no API key: pass Client(api_key=...) or set LANTERNA_API_KEY (NOTTE_API_KEY also works); "
                "create a key with `lanterna keys create`"
            )
        url = server_url or _env("LANTERNA_API_URL", "NOTTE_API_URL") or DEFAULT_SERVER_URL
        self.raise_on_failure = raise_on_failure
        self._transport = Transport(url, key, timeout_s=timeout)
        self._loop = BackgroundLoop()
        self._deferred: set[sessions.Session] = set()
        self.sessions = SessionsApi(self)
        self.agents = AgentsApi(self)
        self.files = FilesApi(self)
        self.profiles = ProfilesApi(self)
        self.vaults = VaultsApi(self)
        _OPEN_CLIENTS.add(self)
        # A client dropped without close() still ends its thread and connections.
        self._finalizer = weakref.finalize(self, _release, self._loop, self._transport)

    def __repr__(self) -> str:
        return f"Client(server_url={self.server_url!r})"

    @property
    def server_url(self) -> str:
        return self._transport.server_url

    # --- factories (named like notte's client) --------------------------------------------------

    def Vault(self, vault_id: str | None = None, *, name: str = "default") -> Vault:
        """The vault ``vault_id``, or a new one named ``name``."""
        return Vault(self, vault_id) if vault_id else self.vaults.create(name)

    def Session(
        self, session_id: str | None = None, *, raise_on_failure: bool | None = None, **options: Any
    ) -> sessions.Session:
        """A new session with ``options`` (started on ``with``/``start()``), or ``Session(id)`` to attach."""
        return sessions.Session(self, session_id, raise_on_failure=raise_on_failure, **options)

    def Agent(
        self,
        session: sessions.Session | str | None = None,
        *,
        agent_id: str | None = None,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> agents.Agent:
        """An agent for ``session`` (or ``agent_id=`` to follow an existing agent)."""
        return agents.Agent(
            self,
            session,
            agent_id=agent_id,
            max_steps=max_steps,
            reasoning_model=reasoning_model,
            use_vision=use_vision,
        )

    def BatchAgent(
        self,
        session: sessions.Session | None = None,
        *,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> agents.BatchRemoteAgent:
        """A batch of agents, each on a new session copying ``session``'s options."""
        return agents.BatchRemoteAgent(
            session,
            max_steps=max_steps,
            reasoning_model=reasoning_model,
            use_vision=use_vision,
            _client=self,
        )

    def AgentFallback(
        self, session: sessions.Session, task: str, **agent_params: Any
    ) -> fallback.AgentFallback:
        """Scripted actions with an agent taking over at the first failure (see ``AgentFallback``)."""
        return fallback.AgentFallback(self, session, task, **agent_params)

    # --- server-wide calls ----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer; raises ``ServerUnavailableError`` if it cannot be reached."""
        body = self._loop.run_sync(self._transport.request("GET", "/health"))
        return body if isinstance(body, dict) else {}

    # --- lifetime -------------------------------------------------------------------------------

    def _forget_run(self, session: sessions.Session, token: object) -> None:
        """An ``arun()`` that was never awaited was collected: do the stop it was holding back."""
        if session._release(token):
            self._loop.fire(session._stop())

    async def _final(self) -> None:
        sessions = list(self._deferred)
        self._deferred.clear()
        if sessions:
            await asyncio.gather(*(s._stop() for s in sessions), return_exceptions=True)
        await self._transport.aclose()

    def close(self) -> None:
        """Stop postponed sessions, close connections and the client's loop thread. Idempotent."""
        _OPEN_CLIENTS.discard(self)
        self._finalizer.detach()
        if not self._loop.closed:
            self._loop.close(self._final())

    async def aclose(self) -> None:
        _OPEN_CLIENTS.discard(self)
        self._finalizer.detach()
        if not self._loop.closed:
            with contextlib.suppress(Exception):
                await self._loop.run_async(self._final())
            await asyncio.to_thread(self._loop.close)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


NotteClient = Client


def _release(loop: BackgroundLoop, transport: Transport) -> None:
    loop.close(transport.aclose())


class SessionsApi:
    """``client.sessions``: sessions by id, without a ``Session`` object."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, *, only_active: bool = True, page: int = 1, page_size: int = 20) -> list[SessionResponse]:
        """Sessions of this API key, newest first (``only_active=False`` includes closed ones)."""
        params = {"only_active": only_active, "page": page, "page_size": page_size}
        call = self._client._transport.call(Page[SessionResponse], "GET", "/sessions", params=params)
        return self._client._loop.run_sync(call).items

    def get(self, session_id: str) -> SessionResponse:
        call = self._client._transport.call(SessionResponse, "GET", f"/sessions/{session_id}")
        return self._client._loop.run_sync(call)

    def stop(self, session_id: str) -> SessionResponse:
        """Stop a session by id (idempotent); returns its closed record."""
        call = self._client._transport.call(SessionResponse, "DELETE", f"/sessions/{session_id}/stop")
        return self._client._loop.run_sync(call)

    def replay(self, session_id: str) -> bytes:
        """The stopped session's recording as MP4 bytes (H.264)."""
        return self._client._loop.run_sync(self._client._transport.download(f"/sessions/{session_id}/replay"))


class AgentsApi:
    """``client.agents``: agents by id, without an ``Agent`` object."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, *, only_active: bool = True, page: int = 1, page_size: int = 20) -> list[AgentStatus]:
        """Agents of this API key, newest first (``only_active=False`` includes finished ones)."""
        params = {"only_active": only_active, "page": page, "page_size": page_size}
        call = self._client._transport.call(Page[AgentStatus], "GET", "/agents", params=params)
        return self._client._loop.run_sync(call).items

    def status(self, agent_id: str) -> AgentStatus:
        call = self._client._transport.call(AgentStatus, "GET", f"/agents/{agent_id}")
        return self._client._loop.run_sync(call)

    def stop(self, agent_id: str) -> AgentStatus:
        """Stop an agent by id (it finishes its current action); returns its status."""
        call = self._client._transport.call(AgentStatus, "DELETE", f"/agents/{agent_id}/stop")
        return self._client._loop.run_sync(call)

    def replay(self, agent_id: str) -> bytes:
        """The finished agent's run as MP4 bytes (H.264)."""
        return self._client._loop.run_sync(self._client._transport.download(f"/agents/{agent_id}/replay"))


class FilesApi:
    """``client.files``: your upload storage. ``upload_file`` actions take these files by name."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def upload(self, path: str | Path, name: str | None = None) -> FileInfo:
        """Upload a local file (as ``name``, default its file name); replaces a file of that name."""
        local = Path(path)
        if not local.is_file():
            raise InvalidRequestError(f"cannot upload {str(local)!r}: no such file on this machine")
        target = f"/storage/uploads/{quote(name or local.name, safe='')}"
        call = self._client._transport.call(FileUploadResponse, "POST", target, content=local.read_bytes())
        uploaded = self._client._loop.run_sync(call)
        if uploaded.file is None:
            raise LanternaError(f"the server stored {local.name!r} but did not describe it")
        return uploaded.file

    def list(self) -> list[FileInfo]:
        """Your uploaded files, by name."""
        call = self._client._transport.call(FileListResponse, "GET", "/storage/uploads")
        return self._client._loop.run_sync(call).files

    def downloads(self, session_id: str) -> builtins.list[FileInfo]:
        """The files a session downloaded (kept after it ends), by name."""
        call = self._client._transport.call(
            FileListResponse, "GET", f"/storage/{quote(session_id, safe='')}/downloads"
        )
        return self._client._loop.run_sync(call).files

    def add_download(self, session_id: str, path: str | Path, name: str | None = None) -> FileInfo:
        """Put a local file among a running session's downloads (as ``name``, default its file
        name), as if its browser had downloaded it; kept with them when the session ends."""
        local = Path(path)
        if not local.is_file():
            raise InvalidRequestError(f"cannot send {str(local)!r}: no such file on this machine")
        target = f"/storage/{quote(session_id, safe='')}/downloads/{quote(name or local.name, safe='')}"
        call = self._client._transport.call(FileUploadResponse, "POST", target, content=local.read_bytes())
        added = self._client._loop.run_sync(call)
        if added.file is None:
            raise LanternaError(f"the server kept {local.name!r} but did not describe it")
        return added.file

    def download(self, session_id: str, name: str) -> bytes:
        """The content of one of a session's downloads."""
        target = f"/storage/{quote(session_id, safe='')}/downloads/{quote(name, safe='')}"
        link = self._client._loop.run_sync(self._client._transport.call(FileLinkResponse, "GET", target))
        parts = urlsplit(link.url)  # the server's own link: fetched from the server this client uses
        return self._client._loop.run_sync(self._client._transport.download(f"{parts.path}?{parts.query}"))


_OPEN_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    for client in list(_OPEN_CLIENTS):
        with contextlib.suppress(Exception):
            client.close()
