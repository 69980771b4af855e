"""Request and response bodies of the HTTP/WebSocket API, shared by server and SDK.

Field names and shapes follow the notte wire contract, so the official client works
unchanged; lanterna adds fields (``state``, typed steps) that it ignores.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lanterna.models.actions import (
    MAX_INT,
    MAX_LIST,
    HeaderValue,
    Instructions,
    JsonObject,
    Name,
    SchemaObject,
    Selector,
    TagName,
    Text,
    Url,
)
from lanterna.models.actions import Scrape as ScrapeAction
from lanterna.models.agent import AgentRequest, AgentRun
from lanterna.models.cookies import Cookie
from lanterna.models.files import FileInfo
from lanterna.models.observation import TabInfo
from lanterna.models.paging import Page as Page  # list endpoints answer pages of the shapes here
from lanterna.models.profiles import Profile, SessionProfile
from lanterna.models.sessions import SessionInfo, SessionRequest
from lanterna.models.status import AgentStatusValue
from lanterna.models.time import UtcDateTime
from lanterna.models.vault import Credentials, CredentialSite, CreditCard


class ErrorBody(BaseModel):
    """Every non-2xx body. ``status`` repeats the HTTP status (the official client reads it)."""

    status: int
    message: str


# --- sessions -----------------------------------------------------------------------------------


class SessionStartRequest(BaseModel):
    """Options of a new browser session. Unknown keys are refused with a 422 naming them."""

    model_config = ConfigDict(extra="forbid")

    headless: bool = True
    solve_captchas: bool = False
    max_duration_minutes: int = Field(default=15, ge=1, le=24 * 60)
    idle_timeout_minutes: int = Field(default=3, ge=1, le=24 * 60)
    proxies: bool | Annotated[list[JsonObject], Field(max_length=16)] = False
    browser_type: Name = "chromium"
    use_file_storage: bool = False  # accepted: every session's downloads are kept in storage
    screenshot_type: Literal["raw", "full", "last_action"] = "last_action"
    web_bot_auth: bool = False
    user_agent: HeaderValue | None = None
    chrome_args: Annotated[list[Name], Field(max_length=64)] | None = None
    viewport_width: int | None = Field(default=None, ge=200, le=7680)
    viewport_height: int | None = Field(default=None, ge=200, le=4320)
    cdp_url: Url | None = None
    profile: SessionProfile | None = None
    recording: bool = Field(default=True, description="record frames for live view and replay")

    def unsupported(self) -> list[str]:
        """Options this server cannot honour, each with what to change (the rest are the
        session request's own ``problems``)."""
        problems = []
        if not self.headless:
            problems.append("headless=false (lanterna runs headless browsers only; use headless=true)")
        if self.solve_captchas:
            problems.append("solve_captchas=true (not supported; leave it false)")
        if self.proxies not in (False, [], None):
            problems.append("proxies (not supported yet; leave it false)")
        if self.browser_type not in ("chromium", "chrome"):
            problems.append(f"browser_type={self.browser_type!r} (only 'chromium' is available)")
        if self.web_bot_auth:
            problems.append("web_bot_auth=true (not supported; leave it false)")
        if self.cdp_url:
            problems.append("cdp_url (lanterna launches its own browsers; leave it out)")
        return problems

    def session_request(self) -> SessionRequest:
        """The options lanterna honours (``unsupported`` refuses the others)."""
        return SessionRequest.model_validate(self.model_dump(include=set(SessionRequest.model_fields)))


class SessionResponse(SessionInfo):
    """A session as clients see it (``steps`` stays empty: notte's client reads the key)."""

    steps: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, session: SessionInfo) -> SessionResponse:
        return cls.model_validate(dict(session))


class OffsetResponse(BaseModel):
    offset: int


class DebugWebSockets(BaseModel):
    cdp: str
    recording: str
    logs: str


class TabDebug(BaseModel):
    metadata: TabInfo
    debug_url: str
    ws_url: str


class DebugResponse(BaseModel):
    debug_url: str
    ws: DebugWebSockets
    tabs: list[TabDebug] = Field(default_factory=list)


class CookiesBody(BaseModel):
    cookies: Annotated[list[Cookie], Field(max_length=MAX_LIST)]


class CookiesSetResponse(BaseModel):
    success: bool
    message: str


class ObserveRequest(BaseModel):
    max_nb_actions: int = Field(
        default=100, ge=0, le=MAX_INT, description="at most this many elements (actions) in the answer"
    )
    min_nb_actions: int | None = Field(default=None, ge=0, le=MAX_INT)
    perception_type: Literal["fast", "deep"] = "fast"
    instructions: Instructions | None = Field(
        default=None,
        description="rank the elements by relevance to this (the LLM when one is configured, "
        "keyword match offline); at most 10 000 characters",
    )
    screenshot: bool | None = Field(
        default=None,
        description="null: a screenshot as the session's screenshot_type says (full page for 'full'); "
        "false: none",
    )


class ScrapeRequest(BaseModel):
    selector: Selector | None = None
    only_main_content: bool = True
    only_images: bool = False
    scrape_links: bool = True
    scrape_images: bool = False
    ignored_tags: Annotated[list[TagName], Field(max_length=100)] | None = None
    instructions: Instructions | None = Field(
        default=None, description="what to extract (adds `structured`); at most 10 000 characters"
    )
    response_format: SchemaObject | None = Field(
        default=None,
        description="JSON schema of the `structured.data` wanted; at most 12 levels deep and 2000 nodes. "
        "Filled by the LLM when one is configured, else from the page's labelled values, tables and lists",
    )
    use_link_placeholders: bool = False

    def scrape_action(self) -> ScrapeAction:
        """The scrape to run (link placeholders are accepted and not applied)."""
        return ScrapeAction(**self.model_dump(exclude={"use_link_placeholders"}))


# --- agents -------------------------------------------------------------------------------------


MAX_MODEL_NAME = 200  # what the store keeps


class AgentStartRequest(BaseModel):
    task: Annotated[Text, Field(min_length=1)]
    session_id: Name
    url: Url | None = None
    response_format: JsonObject | None = None
    session_offset: int | None = Field(default=None, ge=0, le=MAX_INT)
    reasoning_model: Text | None = None  # ``scripted:[...]`` carries a whole script
    use_vision: bool = False
    max_steps: int = Field(default=20, ge=1, le=200)
    vault_id: Name | None = None
    persona_id: Name | None = None
    notifier_config: JsonObject | None = None

    @field_validator("reasoning_model")
    @classmethod
    def _model_name_fits(cls, value: str | None) -> str | None:
        if value and not value.startswith("scripted:") and len(value) > MAX_MODEL_NAME:
            raise ValueError(f"a model name is at most {MAX_MODEL_NAME} characters, e.g. 'openai/gpt-4o'")
        return value

    def unsupported(self) -> list[str]:
        return [
            f"{name} (not supported by lanterna; leave it out)"
            for name in ("persona_id", "notifier_config")
            if getattr(self, name) is not None
        ]

    def agent_request(self) -> AgentRequest:
        """What to run (the vault is looked up by the server)."""
        return AgentRequest.model_validate(self.model_dump(include=set(AgentRequest.model_fields)))


class AgentStatusResponse(AgentRun):
    """An agent as seen by clients: the contract's status object plus lanterna's ``state``."""

    status: AgentStatusValue
    saved: bool = False

    @classmethod
    def of(cls, run: AgentRun) -> AgentStatusResponse:
        return cls.model_validate({**dict(run), "status": run.state.status})


class AgentStopMessage(BaseModel):
    """The terminal WebSocket message."""

    status: Literal["agent_stop"] = "agent_stop"
    agent: AgentStatusResponse


MAX_PAGE = 100_000  # of list endpoints; past it the offset outgrows what databases count
MAX_PAGE_SIZE = 100

# --- storage ------------------------------------------------------------------------------------


class FileUploadResponse(BaseModel):
    """``POST /storage/uploads/{name}``: ``success`` as notte's client reads it, plus the stored file."""

    success: bool
    file: FileInfo | None = None


class FileListResponse(BaseModel):
    """``GET /storage/uploads``."""

    files: list[FileInfo]


class EgressEntryOut(BaseModel):
    """One request the egress policy refused."""

    target: str
    rule: str
    message: str


class EgressLog(BaseModel):
    refused: list[EgressEntryOut]


# --- profiles -----------------------------------------------------------------------------------


class ProfileCreateRequest(BaseModel):
    """``POST /profiles/create``."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class ProfileResponse(BaseModel):
    """A profile as notte's client reads it."""

    profile_id: str
    name: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    persisted_domains: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, profile: Profile) -> ProfileResponse:
        return cls.model_validate(profile.model_dump(exclude={"tenant"}))


class ProfileDeleteResponse(BaseModel):
    """``DELETE /profiles/{id}``: ``success`` and ``message``, as notte's client reads them."""

    success: bool
    message: str


class FileLinkResponse(BaseModel):
    """``GET /storage/{session_id}/downloads/{name}``: a short-lived link that needs no API key."""

    url: str


# --- vaults -------------------------------------------------------------------------------------
# Bodies of /vaults/...; the secrets inside are the shared models of lanterna.models.vault.


class VaultCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Name, Field(min_length=1)] = "default"


class VaultCredentialsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[Url, Field(min_length=1, description="the site: a URL or a domain")]
    credentials: Credentials


class VaultCardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_card: CreditCard


class VaultCredentialsListResponse(BaseModel):
    credentials: list[CredentialSite]


class VaultCredentialsResponse(BaseModel):
    credentials: Credentials


class VaultCardResponse(BaseModel):
    credit_card: CreditCard


class VaultStatusResponse(BaseModel):
    status: Literal["success", "failure"] = "success"
    message: str = ""
