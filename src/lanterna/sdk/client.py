"""``Client`` (blocking, alias ``NotteClient``) and ``AsyncClient``: the entry points of lanterna's SDK.

Both are built the same way, as in httpx: settings and request/answer handling without I/O
(``base.py``), one typed ``Api`` over an ``httpx.AsyncClient`` (``api.py``), and the objects they
make (sessions, agents, batches, fallbacks) talking to that ``Api``. ``AsyncClient`` does its I/O
in the caller's event loop; ``Client`` runs the same code on a loop of its own, so its blocking
methods also work inside ``async def`` and its ``a``-prefixed methods can be awaited.
"""

from __future__ import annotations

import asyncio
import atexit
import builtins
import contextlib
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

from lanterna.errors import InvalidRequestError, LanternaError
from lanterna.sdk import agents, fallback, sessions, vaults
from lanterna.sdk.api import Api, Context
from lanterna.sdk.base import DEFAULT_SERVER_URL, DEFAULT_TIMEOUT_S, ClientSettings
from lanterna.sdk.blocking import blocking
from lanterna.sdk.loop import BackgroundLoop
from lanterna.sdk.profiles import AsyncProfilesApi, ProfilesApi
from lanterna.sdk.results import AgentStatus
from lanterna.sdk.transport import AsyncTransport
from lanterna.sdk.vaults import AsyncVaultsApi, VaultsApi
from lanterna.wire import FileInfo, SessionResponse

__all__ = ["DEFAULT_SERVER_URL", "AsyncClient", "Client", "NotteClient"]


class _BaseClient:
    """What both clients share: settings, the ``Api``, the ``Context`` given to what they make."""

    _flavour = "Client"

    def __init__(
        self, api_key: str | None, server_url: str | None, raise_on_failure: bool, timeout: float
    ) -> None:
        settings = ClientSettings.resolve(api_key, server_url, timeout)
        self._transport = AsyncTransport(settings, flavour=self._flavour)
        self.context = Context(Api(self._transport), raise_on_failure=raise_on_failure, loop=self._own_loop())
        """The ``Api`` and defaults this client's sessions and agents share."""

    def _own_loop(self) -> BackgroundLoop | None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server_url={self.server_url!r})"

    @property
    def server_url(self) -> str:
        return self._transport.server_url

    @property
    def raise_on_failure(self) -> bool:
        """Default for ``session.execute``: raise ``ActionFailedError`` when an action fails."""
        return self.context.raise_on_failure

    @raise_on_failure.setter
    def raise_on_failure(self, value: bool) -> None:
        self.context.raise_on_failure = value

    @property
    def closed(self) -> bool:
        return self._transport.closed

    async def _final(self) -> None:
        postponed = list(self.context.postponed)
        self.context.postponed.clear()
        if postponed:
            await asyncio.gather(*(s.stop() for s in postponed), return_exceptions=True)
        await self._transport.aclose()


class Client(_BaseClient):
    """A connection to a lanterna server, for blocking code (also importable as ``NotteClient``).

    ``Client()`` reads the key from ``LANTERNA_API_KEY`` (or ``NOTTE_API_KEY``) and the server
    from ``LANTERNA_API_URL`` (or ``NOTTE_API_URL``, default ``http://127.0.0.1:8000``).
    ``raise_on_failure`` is the default for ``session.execute``: raise ``ActionFailedError`` when
    an action fails (True, as notte's client does) or return the failed result (False).

    Its requests run on a loop of its own (a daemon thread), so its objects work the same from
    sync code, from async code (``arun``, ``watch_logs``, ``BatchRemoteAgent.run``, ``a*`` methods),
    and from blocking calls made inside async functions. ``close()`` (or leaving
    ``with Client() as client:``) releases it and stops sessions whose stop was postponed; a
    closed client refuses calls with ``ClientClosedError``. In async applications prefer
    ``AsyncClient``, which needs no thread.
    """

    def __init__(
        self,
        api_key: str | None = None,
        server_url: str | None = None,
        *,
        raise_on_failure: bool = True,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__(api_key, server_url, raise_on_failure, timeout)
        assert self.context.loop is not None
        self._loop = self.context.loop
        self.sessions = SessionsApi(self.context)
        self.agents = AgentsApi(self.context)
        self.files = FilesApi(self.context)
        self.profiles = ProfilesApi(self.context)
        self.vaults = VaultsApi(self.context)
        _OPEN_CLIENTS.add(self)
        # A client dropped without close() still ends its thread and connections.
        self._finalizer = weakref.finalize(self, _release, self._loop, self._transport)

    def _own_loop(self) -> BackgroundLoop:
        return BackgroundLoop()

    # --- factories (named like notte's client) --------------------------------------------------

    def Vault(self, vault_id: str | None = None, *, name: str = "default") -> vaults.Vault:
        """The vault ``vault_id``, or a new one named ``name``."""
        return vaults.Vault(self.context, vault_id) if vault_id else self.vaults.create(name)

    def Session(
        self, session_id: str | None = None, *, raise_on_failure: bool | None = None, **options: Any
    ) -> sessions.Session:
        """A new session with ``options`` (started on ``with``/``start()``), or ``Session(id)`` to attach."""
        return sessions.Session(self.context, session_id, raise_on_failure=raise_on_failure, **options)

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
            self.context,
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
            session, max_steps=max_steps, reasoning_model=reasoning_model, use_vision=use_vision, _client=self
        )

    def AgentFallback(
        self, session: sessions.Session, task: str, **agent_params: Any
    ) -> fallback.AgentFallback:
        """Scripted actions with an agent taking over at the first failure (see ``AgentFallback``)."""
        return fallback.AgentFallback(session, task, **agent_params)

    # --- server-wide calls ----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer; raises ``ServerUnavailableError`` if it cannot be reached."""
        return self.context.block(self.context.api.health())

    # --- lifetime -------------------------------------------------------------------------------

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


class AsyncClient(_BaseClient):
    """A connection to a lanterna server for async code, on ``httpx.AsyncClient``.

    The same settings and objects as ``Client``, with every call awaited in the caller's event
    loop (no thread; cancelling a task cancels its request, and a cancelled ``agent.run`` stops
    its agent)::

        async with AsyncClient() as client:
            async with client.Session() as session:
                result = await client.Agent(session=session).run(task="...")

    ``aclose()`` (or leaving ``async with``) stops postponed sessions and closes connections;
    a closed client refuses calls with ``ClientClosedError``. Its connection pool belongs to the
    event loop that first used it: make one client per loop (per ``asyncio.run``).
    """

    _flavour = "AsyncClient"

    def __init__(
        self,
        api_key: str | None = None,
        server_url: str | None = None,
        *,
        raise_on_failure: bool = True,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__(api_key, server_url, raise_on_failure, timeout)
        self.sessions = AsyncSessionsApi(self.context)
        self.agents = AsyncAgentsApi(self.context)
        self.files = AsyncFilesApi(self.context)
        self.profiles = AsyncProfilesApi(self.context)
        self.vaults = AsyncVaultsApi(self.context)

    async def Vault(self, vault_id: str | None = None, *, name: str = "default") -> vaults.AsyncVault:
        """The vault ``vault_id``, or a new one named ``name``."""
        return vaults.AsyncVault(self.context, vault_id) if vault_id else await self.vaults.create(name)

    def Session(
        self, session_id: str | None = None, *, raise_on_failure: bool | None = None, **options: Any
    ) -> sessions.AsyncSession:
        """A new session with ``options`` (started on ``async with``), or ``Session(id)`` to attach."""
        self.context.check_open()
        return sessions.AsyncSession(self.context, session_id, raise_on_failure=raise_on_failure, **options)

    def Agent(
        self,
        session: sessions.AsyncSession | str | None = None,
        *,
        agent_id: str | None = None,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> agents.AsyncAgent:
        """An agent for ``session`` (or ``agent_id=`` to follow an existing agent)."""
        return agents.AsyncAgent(
            self.context,
            session,
            agent_id=agent_id,
            max_steps=max_steps,
            reasoning_model=reasoning_model,
            use_vision=use_vision,
        )

    def BatchAgent(
        self,
        session: sessions.AsyncSession | None = None,
        *,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> agents.BatchRemoteAgent:
        """A batch of agents, each on a new session copying ``session``'s options."""
        return agents.BatchRemoteAgent(
            session, max_steps=max_steps, reasoning_model=reasoning_model, use_vision=use_vision, _client=self
        )

    def AgentFallback(
        self, session: sessions.AsyncSession, task: str, **agent_params: Any
    ) -> fallback.AgentFallback:
        """Scripted actions with an agent taking over at the first failure (``async with``)."""
        return fallback.AgentFallback(session, task, **agent_params)

    async def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer; raises ``ServerUnavailableError`` if it cannot be reached."""
        return await self.context.api.health()

    async def aclose(self) -> None:
        """Stop postponed sessions and close connections. Idempotent."""
        if not self._transport.closed:
            await self._final()

    close = aclose

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _release(loop: BackgroundLoop, transport: AsyncTransport) -> None:
    loop.close(transport.aclose())


# --- namespaces: calls by id, without a session or agent object --------------------------------


class AsyncSessionsApi:
    """``client.sessions``: sessions by id, without a session object (awaited)."""

    def __init__(self, context: Context) -> None:
        self._api = context.api

    async def list(
        self, *, only_active: bool = True, page: int = 1, page_size: int = 20
    ) -> list[SessionResponse]:
        """Sessions of this API key, newest first (``only_active=False`` includes closed ones)."""
        return await self._api.list_sessions(only_active=only_active, page=page, page_size=page_size)

    async def get(self, session_id: str) -> SessionResponse:
        return await self._api.session(session_id)

    async def stop(self, session_id: str) -> SessionResponse:
        """Stop a session by id (idempotent); returns its closed record."""
        return await self._api.stop_session(session_id)

    async def replay(self, session_id: str) -> bytes:
        """The stopped session's recording as MP4 bytes (H.264)."""
        return await self._api.session_replay(session_id)


class SessionsApi:
    """``client.sessions``: sessions by id, without a ``Session`` object."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.core = AsyncSessionsApi(context)

    list = blocking(AsyncSessionsApi.list)
    get = blocking(AsyncSessionsApi.get)
    stop = blocking(AsyncSessionsApi.stop)
    replay = blocking(AsyncSessionsApi.replay)


class AsyncAgentsApi:
    """``client.agents``: agents by id, without an agent object (awaited)."""

    def __init__(self, context: Context) -> None:
        self._api = context.api

    async def list(
        self, *, only_active: bool = True, page: int = 1, page_size: int = 20
    ) -> list[AgentStatus]:
        """Agents of this API key, newest first (``only_active=False`` includes finished ones)."""
        return await self._api.list_agents(only_active=only_active, page=page, page_size=page_size)

    async def status(self, agent_id: str) -> AgentStatus:
        return await self._api.agent_status(agent_id)

    async def stop(self, agent_id: str) -> AgentStatus:
        """Stop an agent by id (it finishes its current action); returns its status."""
        return await self._api.stop_agent(agent_id)

    async def replay(self, agent_id: str) -> bytes:
        """The finished agent's run as MP4 bytes (H.264)."""
        return await self._api.agent_replay(agent_id)


class AgentsApi:
    """``client.agents``: agents by id, without an ``Agent`` object."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.core = AsyncAgentsApi(context)

    list = blocking(AsyncAgentsApi.list)
    status = blocking(AsyncAgentsApi.status)
    stop = blocking(AsyncAgentsApi.stop)
    replay = blocking(AsyncAgentsApi.replay)


class AsyncFilesApi:
    """``client.files``: your upload storage (awaited). ``upload_file`` actions take these files by name."""

    def __init__(self, context: Context) -> None:
        self._api = context.api

    async def upload(self, path: str | Path, name: str | None = None) -> FileInfo:
        """Upload a local file (as ``name``, default its file name); replaces a file of that name."""
        local = Path(path)
        if not local.is_file():
            raise InvalidRequestError(f"cannot upload {str(local)!r}: no such file on this machine")
        uploaded = await self._api.upload(name or local.name, local.read_bytes())
        if uploaded.file is None:
            raise LanternaError(f"the server stored {local.name!r} but did not describe it")
        return uploaded.file

    async def list(self) -> list[FileInfo]:
        """Your uploaded files, by name."""
        return await self._api.uploads()

    async def downloads(self, session_id: str) -> builtins.list[FileInfo]:
        """The files a session downloaded (kept after it ends), by name."""
        return await self._api.downloads(session_id)

    async def add_download(self, session_id: str, path: str | Path, name: str | None = None) -> FileInfo:
        """Put a local file among a running session's downloads (as ``name``, default its file
        name), as if its browser had downloaded it; kept with them when the session ends."""
        local = Path(path)
        if not local.is_file():
            raise InvalidRequestError(f"cannot send {str(local)!r}: no such file on this machine")
        added = await self._api.add_download(session_id, name or local.name, local.read_bytes())
        if added.file is None:
            raise LanternaError(f"the server kept {local.name!r} but did not describe it")
        return added.file

    async def download(self, session_id: str, name: str) -> bytes:
        """The content of one of a session's downloads."""
        return await self._api.download(session_id, name)


class FilesApi:
    """``client.files``: your upload storage. ``upload_file`` actions take these files by name."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.core = AsyncFilesApi(context)

    upload = blocking(AsyncFilesApi.upload)
    list = blocking(AsyncFilesApi.list)
    downloads = blocking(AsyncFilesApi.downloads)
    add_download = blocking(AsyncFilesApi.add_download)
    download = blocking(AsyncFilesApi.download)


_OPEN_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    for client in list(_OPEN_CLIENTS):
        with contextlib.suppress(Exception):
            client.close()
