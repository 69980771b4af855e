"""The action vocabulary: one pydantic model per action ``type``, as on the wire.

Browser actions act on the page or tabs; interaction actions address one element
by ``id`` (from the latest observation) or ``selector`` (any Playwright selector).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from lanterna.models.scrape import DataSpace

# --- bounds on client input ---------------------------------------------------------------------
# Every string a client sends has a length limit and no NUL: PostgreSQL, Chromium's command line
# and the OS refuse NUL, and unbounded strings reach all three. Over a limit is a 422 naming it.

MAX_NAME = 1024  # ids, keys, names, tags, domains
MAX_SELECTOR = 4096
MAX_URL = 32_768
MAX_TEXT = 100_000  # tasks, values typed into the page, answers, instructions
MAX_CODE = 1_000_000  # evaluate_js
MAX_INT = 2**31 - 1  # what every database integer column holds
MAX_LIST = 1000  # items of any list field that has no tighter limit
MAX_COORD = 20_000  # px: a point on an element or in the viewport (no screen is larger)
MAX_OFFSET = 20_000  # px: how far a drag may move, either way
MAX_CLICKS = 3  # single, double, triple click
MAX_TYPED = 5_000  # characters type_text sends key by key (each is a real key event)
MAX_OPTIONS = 100  # options one select_dropdown_option may select
MAX_TYPING_PAUSE_MS = 20_000  # characters × delay_ms of one type_text

NUL_MESSAGE = "contains a NUL character (\\x00), which is not accepted; remove it"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


def _single_line(value: str) -> str:
    bad = next((c for c in value if c < " " or c == "\x7f"), None)
    if bad == "\x00":
        raise ValueError(NUL_MESSAGE)
    if bad is not None:
        raise ValueError(f"contains the control character {bad!r}; use printable characters on one line")
    return value


def _no_nul_inside(value: Any) -> Any:
    """Refuse NUL in any key or string of a JSON value (the store keeps these as JSON)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _no_nul(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


Name = Annotated[str, StringConstraints(max_length=MAX_NAME), AfterValidator(_no_nul)]
Selector = Annotated[str, StringConstraints(max_length=MAX_SELECTOR), AfterValidator(_no_nul)]
Url = Annotated[str, StringConstraints(max_length=MAX_URL), AfterValidator(_no_nul)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_no_nul)]
Code = Annotated[str, StringConstraints(max_length=MAX_CODE), AfterValidator(_no_nul)]
TagName = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9-]*$")]
"""An HTML tag name (``nav``, ``aside``, ``my-widget``)."""
HeaderValue = Annotated[str, StringConstraints(max_length=MAX_NAME), AfterValidator(_single_line)]
"""A string sent on as an HTTP header or a command-line value: one printable line."""
JsonObject = Annotated[dict[str, Any], AfterValidator(_no_nul_inside)]
"""A free-form JSON object (schemas, options); its size is bounded by the request body limit."""

MAX_SCHEMA_DEPTH = 12  # nesting of a response_format schema (a model nests a few levels)
MAX_SCHEMA_NODES = 2_000  # objects, lists and values in it
MAX_INSTRUCTIONS = 10_000  # characters of scrape / observe instructions


def _bounded_schema(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse a response_format too deep or too big to be a model's schema (it goes into a prompt)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > MAX_SCHEMA_DEPTH:
            raise ValueError(
                f"response_format nests deeper than {MAX_SCHEMA_DEPTH} levels; flatten the schema"
            )
        if nodes > MAX_SCHEMA_NODES:
            raise ValueError(f"response_format has more than {MAX_SCHEMA_NODES} nodes; send a smaller schema")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return value


SchemaObject = Annotated[JsonObject, AfterValidator(_bounded_schema)]
"""A JSON schema given as ``response_format``: bounded in depth and size."""
Instructions = Annotated[str, StringConstraints(max_length=MAX_INSTRUCTIONS), AfterValidator(_no_nul)]


# One example per action type: shown in the OpenAPI schema (docs/api.md) and the LLM's schema.
EXAMPLES: dict[str, dict[str, Any]] = {
    "goto": {"type": "goto", "url": "https://example.com"},
    "goto_new_tab": {"type": "goto_new_tab", "url": "https://example.com/help"},
    "switch_tab": {"type": "switch_tab", "tab_index": 0},
    "close_tab": {"type": "close_tab"},
    "go_back": {"type": "go_back"},
    "go_forward": {"type": "go_forward"},
    "reload": {"type": "reload"},
    "wait": {"type": "wait", "time_ms": 500},
    "press_key": {"type": "press_key", "key": "Control+A"},
    "scroll_up": {"type": "scroll_up", "amount": 400},
    "scroll_down": {"type": "scroll_down", "selector": "#log"},
    "scrape": {"type": "scrape", "only_main_content": True},
    "evaluate_js": {"type": "evaluate_js", "code": "document.title"},
    "completion": {"type": "completion", "success": True, "answer": "The cheapest item costs $9.99"},
    "click": {"type": "click", "selector": "#canvas", "position": {"x": 20, "y": 35}},
    "fill": {"type": "fill", "id": "I1", "value": "10/22/2016"},
    "check": {"type": "check", "id": "B2", "value": True},
    "select_dropdown_option": {
        "type": "select_dropdown_option",
        "selector": "#colors",
        "value": ["Red", "Blue"],
    },
    "upload_file": {"type": "upload_file", "selector": "input[type=file]", "file_path": "cv.pdf"},
    "download_file": {"type": "download_file", "id": "L4"},
    "hover": {"type": "hover", "selector": "#menu"},
    "drag": {"type": "drag", "selector": "#list li", "target": "#list li:last-child"},
    "select_text": {"type": "select_text", "selector": "p.intro", "text": "brown fox"},
    "type_text": {"type": "type_text", "selector": "#terminal", "value": "ls", "press_enter": True},
    "form_fill": {"type": "form_fill", "value": {"email": "ada@example.com", "city": "London"}},
    "multi_factor_fill": {"type": "multi_factor_fill", "id": "I3", "value": "[[vault:totp]]"},
    "fallback_fill": {"type": "fallback_fill", "selector": "#card-number", "value": "4242 4242"},
    "captcha_solve": {"type": "captcha_solve", "captcha_type": "recaptcha"},
    "help": {"type": "help", "reason": "the site asks for a phone call"},
    "email_read": {"type": "email_read", "limit": 5, "only_unread": True},
    "sms_read": {"type": "sms_read", "limit": 1},
}


def _add_example(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    field = cls.model_fields.get("type")
    example = EXAMPLES.get(str(field.default)) if field is not None else None
    if example is not None:
        schema["examples"] = [example]


class _ActionBase(BaseModel):
    # A misspelt or unsupported field must not be dropped silently (a click would land elsewhere):
    # every undeclared field is a 422 naming it. notte's client sends ``category`` and
    # ``description`` on every action; they are accepted and not echoed.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_add_example)

    category: SkipJsonSchema[Name | None] = Field(default=None, exclude=True)
    description: SkipJsonSchema[Text | None] = Field(default=None, exclude=True)

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # notte's client rejects null for fields such as ``id``: unset means absent.
        return {k: v for k, v in handler(self).items() if v is not None}

    def wire(self) -> dict[str, Any]:
        """The JSON object sent over the wire."""
        return self.model_dump(mode="json")


class Goto(_ActionBase):
    type: Literal["goto"] = "goto"
    url: Url


class GotoNewTab(_ActionBase):
    type: Literal["goto_new_tab"] = "goto_new_tab"
    url: Url


class SwitchTab(_ActionBase):
    type: Literal["switch_tab"] = "switch_tab"
    tab_index: int = Field(ge=-1000, le=1000)


class CloseTab(_ActionBase):
    type: Literal["close_tab"] = "close_tab"


class GoBack(_ActionBase):
    type: Literal["go_back"] = "go_back"


class GoForward(_ActionBase):
    type: Literal["go_forward"] = "go_forward"


class Reload(_ActionBase):
    type: Literal["reload"] = "reload"


class Wait(_ActionBase):
    type: Literal["wait"] = "wait"
    time_ms: int = Field(ge=0, le=30000)


class PressKey(_ActionBase):
    type: Literal["press_key"] = "press_key"
    key: Name


class Point(BaseModel):
    """A point in CSS pixels: from an element's top-left corner, or in the viewport."""

    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=0, le=MAX_COORD)
    y: float = Field(ge=0, le=MAX_COORD)


class Offset(BaseModel):
    """A move in CSS pixels (right and down are positive)."""

    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=-MAX_OFFSET, le=MAX_OFFSET)
    y: float = Field(ge=-MAX_OFFSET, le=MAX_OFFSET)


class Modifier(StrEnum):
    """A key held during a click."""

    ALT = "Alt"
    CONTROL = "Control"
    META = "Meta"
    SHIFT = "Shift"
    CONTROL_OR_META = "ControlOrMeta"


class _Addressed(_ActionBase):
    """An action that may name an element: by ``id`` from the latest observation or by ``selector``."""

    id: Name | None = None
    selector: Selector | None = None

    @field_validator("selector", mode="before")
    @classmethod
    def _normalise_selector(cls, v: Any) -> Any:
        return _selector_from_wire(v)

    @field_validator("id", mode="before")
    @classmethod
    def _empty_id_is_none(cls, v: Any) -> Any:
        return v or None


class _Scroll(_Addressed):
    # With an element: scroll that element (or the scroller around it) instead of the window.
    amount: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)  # px; None: a viewport


class ScrollUp(_Scroll):
    type: Literal["scroll_up"] = "scroll_up"


class ScrollDown(_Scroll):
    type: Literal["scroll_down"] = "scroll_down"


class Scrape(_ActionBase):
    type: Literal["scrape"] = "scrape"
    instructions: Instructions | None = None
    only_main_content: bool = True
    selector: Selector | None = None
    only_images: bool = False
    scrape_links: bool = True
    scrape_images: bool = False
    ignored_tags: Annotated[list[TagName], Field(max_length=100)] | None = None
    response_format: SchemaObject | None = None


class EvaluateJs(_ActionBase):
    type: Literal["evaluate_js"] = "evaluate_js"
    code: Code


class Completion(_ActionBase):
    type: Literal["completion"] = "completion"
    success: bool
    answer: str  # reasoners write it too (a whole page, say): the body limit bounds it

    @field_validator("answer", mode="before")
    @classmethod
    def _encode_answer(cls, v: Any) -> Any:
        if isinstance(v, dict | list):
            import json

            return json.dumps(v)
        return v


def _selector_from_wire(v: Any) -> Any:
    """Accept a selector string or notte's selector object; return a Playwright selector."""
    if isinstance(v, dict):
        if v.get("playwright_selector"):
            return v["playwright_selector"]
        if v.get("css_selector"):
            return f"css={v['css_selector']}"
        if v.get("xpath_selector"):
            return f"xpath={v['xpath_selector']}"
        return None
    return v or None


class _InteractionBase(_Addressed):
    press_enter: bool | None = None
    text_label: Text | None = None
    timeout: int | None = Field(default=None, ge=0, le=120_000, description="milliseconds")

    @model_validator(mode="after")
    def _needs_target(self) -> _InteractionBase:
        if not self.id and not self.selector and not self._targets_the_page():
            raise ValueError(
                f"action '{self.type}' needs an element: give 'id' (e.g. \"B1\" from the latest "
                'observation) or \'selector\' (e.g. "#submit", "text=Sign in", "xpath=//button")'
            )
        return self

    def _targets_the_page(self) -> bool:
        """Whether this action may address the page instead of an element (a click at a point)."""
        return False

    @property
    def addressed(self) -> str:
        """How the element was addressed, for messages."""
        if not self.id and not self.selector:
            return "the page"
        return f"id '{self.id}'" if self.id else f"selector '{self.selector}'"

    type: str


class Click(_InteractionBase):
    """Click an element (at its centre, or at ``position`` from its top-left corner), or the page
    at ``position`` in viewport coordinates when no element is given."""

    type: Literal["click"] = "click"
    position: Point | None = None
    click_count: int = Field(default=1, ge=1, le=MAX_CLICKS, description="2: double click, 3: triple")
    modifiers: Annotated[list[Modifier], Field(max_length=len(Modifier))] | None = None
    force: bool = Field(default=False, description="click even when another element covers the target")

    def _targets_the_page(self) -> bool:
        return self.position is not None


class Hover(_InteractionBase):
    """Move the pointer onto an element (at its centre or ``position``): menus, tooltips."""

    type: Literal["hover"] = "hover"
    position: Point | None = None
    force: bool = False


class Drag(_InteractionBase):
    """Drag an element onto another (``target`` selector or ``target_id``) or by ``offset``."""

    type: Literal["drag"] = "drag"
    target: Selector | None = None  # the drop target
    target_id: Name | None = None
    offset: Offset | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _normalise_target(cls, v: Any) -> Any:
        return _selector_from_wire(v)

    @model_validator(mode="after")
    def _one_destination(self) -> Drag:
        given = [n for n in ("target", "target_id", "offset") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError(
                "drag needs exactly one destination: 'target' (a selector), 'target_id' (an id from "
                'observe()) or \'offset\' ({"x": 0, "y": 120}); got '
                + (", ".join(repr(n) for n in given) or "none")
            )
        return self

    @property
    def destination(self) -> str:
        """Where the element goes, for messages."""
        if self.offset is not None:
            return f"by ({self.offset.x:g}, {self.offset.y:g}) px"
        return f"onto id '{self.target_id}'" if self.target_id else f"onto selector '{self.target}'"


class SelectText(_InteractionBase):
    """Select the text of an element, or the first occurrence of ``text`` inside it."""

    type: Literal["select_text"] = "select_text"
    text: Text | None = None


class TypeText(_InteractionBase):
    """Type ``value`` key by key with real key events (terminals, editors, key-driven widgets)."""

    type: Literal["type_text"] = "type_text"
    value: Annotated[str, StringConstraints(max_length=MAX_TYPED), AfterValidator(_no_nul)]
    delay_ms: int = Field(default=0, ge=0, le=200, description="pause between keys")

    @model_validator(mode="after")
    def _bounded_duration(self) -> TypeText:
        # The pauses alone must fit well inside an action's time guard.
        if len(self.value) * self.delay_ms > MAX_TYPING_PAUSE_MS:
            raise ValueError(
                f"typing {len(self.value)} characters {self.delay_ms} ms apart takes longer than "
                f"{MAX_TYPING_PAUSE_MS // 1000} s; send less text or a shorter delay_ms"
            )
        return self


class Fill(_InteractionBase):
    type: Literal["fill"] = "fill"
    value: Text
    clear_before_fill: bool = True


class MultiFactorFill(Fill):
    """Fill a one-time-code field. With a vault, the code placeholder becomes the current TOTP."""

    type: Literal["multi_factor_fill"] = "multi_factor_fill"  # type: ignore[assignment]


class FallbackFill(Fill):
    """Fill a field that refuses ``fill`` (a masked or scripted input): focus it, clear it and
    type the value as key presses."""

    type: Literal["fallback_fill"] = "fallback_fill"  # type: ignore[assignment]


class Check(_InteractionBase):
    type: Literal["check"] = "check"
    value: bool


class SelectDropdownOption(_InteractionBase):
    """Select an option by its label or value; a list selects several of a ``<select multiple>``."""

    type: Literal["select_dropdown_option"] = "select_dropdown_option"
    value: Text | Annotated[list[Text], Field(min_length=1, max_length=MAX_OPTIONS)]


class UploadFile(_InteractionBase):
    type: Literal["upload_file"] = "upload_file"
    file_path: str


class DownloadFile(_InteractionBase):
    type: Literal["download_file"] = "download_file"


FORM_FIELDS = (
    *("title", "first_name", "middle_name", "last_name", "full_name", "email", "company"),
    *("address1", "address2", "address3", "city", "state", "postal_code", "country", "phone"),
    *("cc_name", "cc_number", "cc_exp_month", "cc_exp_year", "cc_exp", "cc_cvv"),
    *("username", "password", "current_password", "new_password", "totp"),
)


class FormFill(_ActionBase):
    """Fill several fields of the page's form at once; each key finds its field by autocomplete,
    name, id, label or placeholder."""

    type: Literal["form_fill"] = "form_fill"
    value: Annotated[dict[Name, Text], Field(min_length=1)]

    @field_validator("value")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FORM_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown form field(s) {', '.join(unknown)}; use keys among: {', '.join(FORM_FIELDS)}"
            )
        return value


class _NotOffered(_ActionBase):
    """An action of Notte's vocabulary that lanterna accepts and fails with a message saying why."""


class CaptchaSolve(_NotOffered):
    type: Literal["captcha_solve"] = "captcha_solve"
    captcha_type: Name | None = None


class Help(_NotOffered):
    type: Literal["help"] = "help"
    reason: Text = ""


class EmailRead(_NotOffered):
    type: Literal["email_read"] = "email_read"
    limit: int | None = Field(default=None, ge=1, le=MAX_LIST)
    timedelta: Any = None
    only_unread: bool | None = None


class SmsRead(_NotOffered):
    type: Literal["sms_read"] = "sms_read"
    limit: int | None = Field(default=None, ge=1, le=MAX_LIST)
    timedelta: Any = None
    only_unread: bool | None = None


NOT_OFFERED: dict[str, str] = {
    "captcha_solve": "lanterna does not solve captchas; solve it in the live viewer, or use a site or "
    "test environment without one",
    "help": "lanterna has no human to hand over to during a run; finish with a completion that explains "
    "what is unclear",
    "email_read": "lanterna has no personas and so no email inbox (hosted-only in Notte); give the agent "
    "the code or link in its task",
    "sms_read": "lanterna has no personas and so no phone number (hosted-only in Notte); give the agent "
    "the code in its task, or store a TOTP secret in a vault for multi_factor_fill",
}


BrowserAction = (
    Goto
    | GotoNewTab
    | SwitchTab
    | CloseTab
    | GoBack
    | GoForward
    | Reload
    | Wait
    | PressKey
    | ScrollUp
    | ScrollDown
    | Scrape
    | EvaluateJs
    | Completion
    | FormFill
    | CaptchaSolve
    | Help
    | EmailRead
    | SmsRead
)
InteractionAction = (
    Click
    | Fill
    | MultiFactorFill
    | FallbackFill
    | Check
    | SelectDropdownOption
    | UploadFile
    | DownloadFile
    | Hover
    | Drag
    | SelectText
    | TypeText
)

Action = Annotated[BrowserAction | InteractionAction, Field(discriminator="type")]
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)
ACTION_TYPES: tuple[str, ...] = tuple(
    m.model_fields["type"].default
    for m in (
        Goto,
        GotoNewTab,
        SwitchTab,
        CloseTab,
        GoBack,
        GoForward,
        Reload,
        Wait,
        PressKey,
        ScrollUp,
        ScrollDown,
        Scrape,
        EvaluateJs,
        Completion,
        FormFill,
        CaptchaSolve,
        Help,
        EmailRead,
        SmsRead,
        Click,
        Fill,
        MultiFactorFill,
        FallbackFill,
        Check,
        SelectDropdownOption,
        UploadFile,
        DownloadFile,
        Hover,
        Drag,
        SelectText,
        TypeText,
    )
)
INTERACTION_TYPES = frozenset(
    {
        "click",
        "fill",
        "multi_factor_fill",
        "fallback_fill",
        "check",
        "select_dropdown_option",
        "upload_file",
        "download_file",
    }
    | {"hover", "drag", "select_text", "type_text"}
)


# Longest value shown in a one-line description of an action.
DESCRIBED_VALUE_CHARS = 60


def describe_action(action: Action) -> str:
    """``click id="L3"``, ``goto url="http://…"``, ``completion success=true answer="…"``.

    Fields left at their default are omitted: they add noise to a one-line summary.
    """
    fields = action.model_dump(mode="json", exclude_none=True)
    kind = fields.pop("type")
    model_fields = type(action).model_fields
    parts = [kind]
    for key, value in fields.items():
        field = model_fields.get(key)
        if field is not None and not field.is_required() and field.default == value:
            continue
        parts.append(f'{key}="{_short(value)}"' if isinstance(value, str) else f"{key}={_short(value)}")
    return " ".join(parts)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= DESCRIBED_VALUE_CHARS else text[: DESCRIBED_VALUE_CHARS - 1] + "…"


def parse_action(data: Action | dict[str, Any]) -> Action:
    """Validate a dict (or pass through a model) into a typed action."""
    if isinstance(data, BaseModel):
        return data
    return ACTION_ADAPTER.validate_python(data)


class ExecutionResult(BaseModel):
    """The outcome of one action. A failure is ``success=False`` with a message saying what to do."""

    action: Action
    success: bool
    message: str
    data: DataSpace | None = None
    exception: str | None = None
    started_at: datetime
    ended_at: datetime

    @model_validator(mode="after")
    def _exception_only_on_failure(self) -> ExecutionResult:
        if self.success:
            self.exception = None
        elif self.exception is None:
            self.exception = self.message
        return self
