"""The offline reasoner: a deterministic, rule-based planner that needs no model.

It handles ordinary tasks on ordinary pages (see ``offline_intent``) and fails at once, saying
how to configure an LLM, for anything else. One instance serves one run: it remembers which
pages it saw and which links it followed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from lanterna.models.actions import Action, Click, Completion, Fill, Goto, Scrape
from lanterna.models.agent import ReasonerState, RelevantInteraction
from lanterna.models.observation import VALUE_ROLES, InteractiveElement, Observation
from lanterna.reasoners.base import Decision, ReasonerInput
from lanterna.reasoners.offline_intent import Intent, parse_intent
from lanterna.reasoners.offline_login import LOGIN_TASK, login_action
from lanterna.reasoners.page_facts import (
    PRICE,
    find_emails,
    find_heading,
    find_labelled,
    find_phones,
    find_prices,
    plain_lines,
)

NEEDS_LLM = (
    "The offline reasoner (no language model) cannot do this task: {task!r}. It handles simple tasks: "
    "open a URL; find an email, phone number, price, heading or labelled value; click a named button or "
    "link; fill named fields ('fill the email field with a@b.c'); add an item to the cart; extract the "
    "page text or a table. For anything else configure an LLM, e.g. LANTERNA_MODEL=openai/gpt-4o-mini "
    "with OPENAI_API_KEY (or anthropic/…, gemini/…, groq/…, openrouter/… with their keys, ollama/<model> "
    "locally, or LANTERNA_LLM_BASE_URL for any OpenAI-compatible endpoint)."
)

# Links worth following first, per kind of fact.
_LEADS: dict[str, tuple[str, ...]] = {
    "email": ("contact", "about", "support", "help", "customer service", "imprint", "impressum"),
    "phone": ("contact", "about", "support", "help", "customer service", "imprint", "impressum"),
    "price": ("products", "shop", "store", "catalog", "pricing", "buy"),
    "heading": (),
    "label": ("about", "contact", "products", "details", "specifications", "faq"),
    "add_to_cart": ("products", "shop", "store", "catalog"),
}
_SUBMIT_NAMES = ("submit", "send", "sign in", "log in", "login", "search", "continue", "save", "register")
_ADD_BUTTON = re.compile(r"\badd\s+to\s+(?:cart|basket|bag)\b|\bbuy\s+now\b", re.I)
_SKIP_LINK = re.compile(r"^skip\b|@|^\+?[\d\s().-]{7,}$|^(?:log\s*out|sign\s*out)$", re.I)


def _title_key(title: str) -> str:
    """The distinctive part of a page title ("Contact — Shop" → "contact")."""
    return re.split(r"\s+[—|·-]\s+", title.strip(), maxsplit=1)[0].strip().lower()


def _url_key(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/").lower()


class OfflineReasoner:
    """Rule-based reasoner for ordinary tasks; says an LLM is needed for the rest."""

    def __init__(self) -> None:
        self._task: str | None = None
        self._intent: Intent | None = None
        self._visited_urls: set[str] = set()
        self._visits: dict[str, int] = {}  # page -> how many observations were of it
        self._visited_titles: set[str] = set()
        self._followed: set[tuple[str, str]] = set()  # (page url, link name)
        self._leads_to: dict[str, str] = {}  # link name -> the page it led to last time
        self._last_followed: str | None = None
        self._navigated = False
        self._filled: set[int] = set()
        self._pending: str | None = None  # what the last action was meant to achieve
        self._previous: tuple[Literal["success", "failure", "unknown"], str] = ("unknown", "")

    async def decide(self, input: ReasonerInput) -> Decision:
        if self._task != input.task:
            self._task, self._intent = input.task, parse_intent(input.task)
        obs = input.observation
        here = _url_key(obs.metadata.url)
        self._visited_urls.add(here)
        self._visits[here] = self._visits.get(here, 0) + 1
        if self._last_followed is not None:
            self._leads_to[self._last_followed] = here
            self._last_followed = None
        self._judge(input)
        if obs.metadata.title:
            self._visited_titles.add(_title_key(obs.metadata.title))
        login = login_action(input)
        if login is not None:
            return self._act(obs, login[0], login[1])
        last_step = input.history[-1] if input.history else None
        signed_in = last_step is not None and last_step.action.type == "click" and last_step.success
        if input.vault_placeholders and LOGIN_TASK.search(input.task) and signed_in:
            return self._finish(
                obs, True, f"Signed in at {obs.metadata.url} (page title: {obs.metadata.title!r})."
            )
        intent = self._intent
        if intent is None:
            return self._finish(obs, False, NEEDS_LLM.format(task=input.task.strip()[:200]))
        if input.feedback:
            return self._finish(
                obs,
                False,
                f"The offline reasoner cannot shape its answer to the requested response_format "
                f"({input.feedback}); use an LLM model for structured answers.",
            )
        last = input.history[-1] if input.history else None
        if last is not None and not last.success and self._pending is not None:
            if last.action.type == "goto":
                return self._finish(
                    obs, False, f"Could not open {getattr(last.action, 'url', '')}: {last.message}"
                )
            if not self._pending.startswith("follow"):  # a dead link is skipped; other failures end the run
                return self._finish(obs, False, f"Could not {self._pending}: {last.message}")
        if intent.url and not self._navigated:
            self._navigated = True
            if _url_key(obs.metadata.url) != _url_key(intent.url):
                return self._act(obs, Goto(url=intent.url), f"open {intent.url}")
        if intent.kind == "navigate":
            return self._finish(obs, True, f"Opened {obs.metadata.url} (page title: {obs.metadata.title!r}).")
        if intent.kind == "find":
            return self._find(intent, input)
        if intent.kind == "click":
            return self._click(intent, input)
        if intent.kind == "fill":
            return self._fill(intent, input)
        if intent.kind == "add_to_cart":
            return self._add_to_cart(intent, input)
        return self._extract(intent, input)

    # --- decisions ------------------------------------------------------------------------------

    def _judge(self, input: ReasonerInput) -> None:
        """How the previous action went, for the next state's ``previous_goal_*`` keys."""
        last = input.history[-1] if input.history else None
        if last is None or self._pending is None:
            self._previous = ("unknown", "")
        else:
            self._previous = ("success" if last.success else "failure", f"{self._pending}: {last.message}")

    def _state(
        self, obs: Observation, goal: str, element: InteractiveElement | None = None, memory: str = ""
    ) -> ReasonerState:
        interactions = [RelevantInteraction(id=element.id, reason=element.name)] if element else []
        status, evaluation = self._previous
        return ReasonerState(
            previous_goal_status=status,
            previous_goal_eval=evaluation[:300],
            page_summary=f"{obs.metadata.title} ({obs.metadata.url})",
            relevant_interactions=interactions,
            memory=memory,
            next_goal=goal,
        )

    def _act(
        self, obs: Observation, action: Action, goal: str, element: InteractiveElement | None = None
    ) -> Decision:
        self._pending = goal
        return Decision(state=self._state(obs, goal, element), action=action)

    def _finish(self, obs: Observation, success: bool, answer: str) -> Decision:
        goal = "report the answer" if success else "report that the task cannot be done"
        return Decision(
            state=self._state(obs, goal, memory=answer[:500]),
            action=Completion(success=success, answer=answer),
        )

    def _follow(self, obs: Observation, link: InteractiveElement, why: str) -> Decision:
        self._followed.add((_url_key(obs.metadata.url), link.name.lower()))
        self._last_followed = link.name.lower()
        return self._act(obs, Click(id=link.id), f"follow '{link.name}' {why}", link)

    # --- links ----------------------------------------------------------------------------------

    def _fresh_links(self, obs: Observation) -> list[InteractiveElement]:
        """Links that may lead somewhere not seen yet, in page order."""
        here = _url_key(obs.metadata.url)
        links = []
        for element in obs.elements:
            name = element.name.strip()
            if element.role != "link" or not name or element.disabled or _SKIP_LINK.search(name):
                continue
            lowered = name.lower()
            if (here, lowered) in self._followed or self._leads_to.get(lowered) in self._visited_urls:
                continue
            if any(t and (t == lowered or t in lowered or lowered in t) for t in self._visited_titles):
                continue
            links.append(element)
        return links

    def _least_seen_link(self, obs: Observation) -> InteractiveElement | None:
        """The link to the page seen least often (a link not followed yet counts as unseen)."""
        here = _url_key(obs.metadata.url)
        best: tuple[int, int, InteractiveElement] | None = None
        for index, element in enumerate(obs.elements):
            name = element.name.strip().lower()
            if element.role != "link" or not name or element.disabled or _SKIP_LINK.search(name):
                continue
            target = self._leads_to.get(name)
            if target == here:
                continue
            seen = self._visits.get(target, 0) if target is not None else 0
            if best is None or (seen, index) < best[:2]:
                best = (seen, index, element)
        return best[2] if best else None

    def _lead(self, obs: Observation, words: tuple[str, ...], *, explore: bool) -> InteractiveElement | None:
        links = self._fresh_links(obs)
        for word in words:
            for link in links:
                if word in link.name.lower():
                    return link
        return links[0] if explore and links else None

    # --- intents --------------------------------------------------------------------------------

    def _find(self, intent: Intent, input: ReasonerInput) -> Decision:
        obs = input.observation
        lines = plain_lines(obs.text)
        value = self._fact(intent, obs, lines)
        if value:
            return self._finish(obs, True, self._answer(intent, value, obs, input.response_format))
        subject_words = tuple(w.lower() for w in (intent.subject or "").split() if len(w) > 2)
        if intent.subject:
            link = self._lead(obs, (intent.subject.lower(),), explore=False)
            if link:
                return self._follow(obs, link, f"to find {intent.describe()}")
        leads = _LEADS[intent.target or "label"]
        if intent.target == "label" and intent.label:
            leads = (intent.label.lower(), *subject_words, *leads)
        explore = intent.target != "heading"
        link = self._lead(obs, leads, explore=explore)
        if link:
            return self._follow(obs, link, f"to look for {intent.describe()}")
        # Every link was tried: keep looking on the pages seen least (until max_steps ends it).
        link = self._least_seen_link(obs) if explore else None
        if link:
            return self._follow(obs, link, f"to look again for {intent.describe()}")
        pages = len(self._visited_urls)
        return self._finish(
            obs,
            False,
            f"Could not find {intent.describe()} on the {pages} page(s) visited; no links to follow.",
        )

    def _fact(self, intent: Intent, obs: Observation, lines: list[str]) -> str | None:
        if intent.target == "email":
            found = find_emails(lines)
        elif intent.target == "phone":
            found = find_phones(lines)
        elif intent.target == "price":
            subject = intent.subject
            here = (obs.metadata.title + " " + (find_heading(obs.text) or "")).lower()
            if subject and subject.lower() in here:
                subject = None  # already on the subject's own page
            found = find_prices(lines, subject)
        elif intent.target == "heading":
            heading = find_heading(obs.text) or obs.metadata.title
            found = [heading] if heading else []
        else:
            if intent.subject and not self._about(obs, intent.subject):
                return None
            labelled = find_labelled(lines, intent.label or "")
            found = [labelled] if labelled else []
        return found[0] if found else None

    def _about(self, obs: Observation, subject: str) -> bool:
        here = (obs.metadata.title + " " + (find_heading(obs.text) or "")).lower()
        return subject.lower() in here

    def _answer(self, intent: Intent, value: str, obs: Observation, schema: dict[str, Any] | None) -> str:
        if schema is not None:
            shaped = _shape(intent, value, schema)
            if shaped is not None:
                return shaped
        what = intent.describe()
        return f"{what[0].upper()}{what[1:]} is {value} (found on {obs.metadata.url})."

    def _click(self, intent: Intent, input: ReasonerInput) -> Decision:
        obs = input.observation
        clicked = self._pending is not None and self._pending.startswith("click ")
        if clicked and input.history and input.history[-1].success:
            now = f"{obs.metadata.title!r} ({obs.metadata.url})"
            return self._finish(obs, True, f"Clicked {intent.describe()}; the page is now {now}.")
        element = _named(obs.elements, intent.label or "", roles=None)
        if element is None:
            names = ", ".join(repr(e.name) for e in obs.elements if e.name)[:400]
            return self._finish(
                obs,
                False,
                f"There is no element named {intent.describe()} on {obs.metadata.url}; it has: {names}",
            )
        return self._act(obs, Click(id=element.id), f"click {intent.describe()}", element)

    def _fill(self, intent: Intent, input: ReasonerInput) -> Decision:
        obs = input.observation
        for index, (field, value) in enumerate(intent.fields):
            if index in self._filled:
                continue
            element = _named(obs.elements, field, roles=VALUE_ROLES)
            if element is None:
                return self._finish(obs, False, f"There is no field named {field!r} on {obs.metadata.url}.")
            self._filled.add(index)
            return self._act(obs, Fill(id=element.id, value=value), f"fill {field!r} with {value!r}", element)
        done = ", ".join(f"{field} with {value!r}" for field, value in intent.fields)
        if intent.submit and self._pending != "submit the form":
            button = next(
                (
                    e
                    for name in _SUBMIT_NAMES
                    for e in obs.elements
                    if e.role == "button" and name in e.name.lower()
                ),
                None,
            )
            if button is None:
                return self._finish(obs, False, f"Filled {done}, but found no button to submit the form.")
            return self._act(obs, Click(id=button.id), "submit the form", button)
        submitted = " and submitted the form" if intent.submit else ""
        return self._finish(obs, True, f"Filled {done}{submitted}; the page is now {obs.metadata.url}.")

    def _add_to_cart(self, intent: Intent, input: ReasonerInput) -> Decision:
        obs = input.observation
        if self._pending == "add to cart" and input.history and input.history[-1].success:
            product = find_heading(obs.text) or obs.metadata.title
            confirmation = next(
                (line for line in plain_lines(obs.text) if re.search(r"\badded\b", line, re.I)), ""
            )
            return self._finish(obs, True, f"Added {product} to the cart. {confirmation}".strip())
        on_subject_page = intent.subject is None or self._about(obs, intent.subject)
        button = next(
            (e for e in obs.elements if e.role == "button" and not e.disabled and _ADD_BUTTON.search(e.name)),
            None,
        )
        if button is not None and on_subject_page:
            return self._act(obs, Click(id=button.id), "add to cart", button)
        if intent.subject:
            link = self._lead(obs, (intent.subject.lower(),), explore=False)
            if link:
                return self._follow(obs, link, "to open the product page")
        product_link = self._product_link(obs)
        if product_link is not None and intent.subject is None:
            return self._follow(obs, product_link, "to open a product page")
        link = self._lead(obs, _LEADS["add_to_cart"], explore=False)
        if link:
            return self._follow(obs, link, "to find products")
        return self._finish(
            obs,
            False,
            f"Could not find an 'Add to cart' button for {intent.describe()} from {obs.metadata.url}.",
        )

    def _product_link(self, obs: Observation) -> InteractiveElement | None:
        """A link that looks like a product: a line with just its name, then a price right below."""
        lines = plain_lines(obs.text)
        for link in self._fresh_links(obs):
            name = link.name.strip()
            for index, line in enumerate(lines[:-1]):
                if line == name and PRICE.fullmatch(lines[index + 1].strip()):
                    return link
        return None

    def _extract(self, intent: Intent, input: ReasonerInput) -> Decision:
        obs = input.observation
        last = input.history[-1] if input.history else None
        if last is not None and last.action.type == "scrape":
            markdown = last.data.markdown.strip() if last.data and last.success else ""
            if markdown:
                return self._finish(obs, True, markdown)
            if last.success or self._pending != "extract the main text":
                return self._finish(obs, False, f"There is no text to extract on {obs.metadata.url}.")
            return self._act(obs, Scrape(only_main_content=True), "extract the main text")
        if obs.metadata.url in ("", "about:blank") and not obs.text.strip():
            return self._finish(
                obs, False, "The page is blank: give the agent a url, or a task that names the page to open."
            )
        if intent.table and re.search(r"\btable\b", obs.text):
            return self._act(obs, Scrape(selector="table", only_main_content=False), "extract the table")
        return self._act(obs, Scrape(only_main_content=True), "extract the main text")


def _named(
    elements: list[InteractiveElement], name: str, roles: frozenset[str] | None
) -> InteractiveElement | None:
    """The element best matching ``name``: exact, then prefix, then containing it (either way)."""
    wanted = name.lower().strip()
    candidates = [e for e in elements if e.name and not e.disabled and (roles is None or e.role in roles)]
    for test in (
        lambda n: n == wanted,
        lambda n: n.startswith(wanted),
        lambda n: wanted in n,
        lambda n: n in wanted and len(n) > 2,
    ):
        for element in candidates:
            if test(element.name.lower().strip()):
                return element
    return None


def _shape(intent: Intent, value: str, schema: dict[str, Any]) -> str | None:
    """``value`` as a JSON document for a simple object schema, or None if the schema is not simple."""
    properties = schema.get("properties")
    if schema.get("type") not in (None, "object") or not isinstance(properties, dict) or not properties:
        return None
    hint = (intent.target if intent.target != "label" else intent.label) or ""
    names = list(properties)
    name = next((n for n in names if hint and (hint.lower() in n.lower() or n.lower() in hint.lower())), None)
    if name is None and len(names) == 1:
        name = names[0]
    if name is None:
        return None
    kind = properties[name].get("type") if isinstance(properties[name], dict) else None
    typed: Any = value
    if kind in ("number", "integer"):
        digits = re.sub(r"[^\d.]", "", value.replace(",", ""))
        try:
            typed = float(digits) if kind == "number" else int(float(digits))
        except ValueError:
            return None
    return json.dumps({name: typed})
