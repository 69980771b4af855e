"""Generated requests against a real server's OpenAPI schema: no input makes it answer 5xx.

A bounded schemathesis run (a few hundred requests, well under three minutes on two cores), valid
and invalid data for every operation, sent to 127.0.0.1 only. The one 5xx allowed is the documented
503 of ``POST /sessions/start`` when no browser can be started now. ``POST /sessions/start`` keeps
a small example count because each success launches a real Chromium; every session the run started
is closed afterwards.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.schemas import APIOperation

from tests.fixtures.server import LanternaServer

pytestmark = pytest.mark.timeout(300)

BUDGET_S = 150.0  # generation stops here whatever is left
EXAMPLES = 10  # per operation and generation mode
START_EXAMPLES = 2  # POST /sessions/start: each valid example launches a browser
# Operations run again against a live session of the fuzzing tenant, so they reach the browser.
LIVE_SESSION_OPERATIONS = {
    "GET /sessions/{session_id}",
    "GET /sessions/{session_id}/offset",
    "GET /sessions/{session_id}/debug",
    "GET /sessions/{session_id}/debug/tab",
    "GET /sessions/{session_id}/cookies",
    "POST /sessions/{session_id}/cookies",
    "POST /sessions/{session_id}/page/observe",
    "POST /sessions/{session_id}/page/scrape",
    "POST /sessions/{session_id}/page/execute",
}
# On a live session, only actions that answer at once: a wait, a navigation or an element lookup
# may each take seconds, and the run has a time budget.
INSTANT_ACTIONS = {
    "scroll_up",
    "scroll_down",
    "press_key",
    "evaluate_js",
    "switch_tab",
    "go_back",
    "go_forward",
    "scrape",
    "completion",
}
ALLOWED_5XX = {("POST /sessions/start", 503)}  # at capacity (LANTERNA_MAX_BROWSERS) or no Chromium


@dataclass
class FuzzRun:
    """What the run sent and every answer of 5xx."""

    base_url: str
    headers: dict[str, str]
    deadline: float
    http: requests.Session = field(default_factory=requests.Session)
    sent: int = 0
    failures: list[str] = field(default_factory=list)

    def send(self, case: Case) -> None:
        if time.monotonic() > self.deadline:
            return
        response = case.call(
            base_url=self.base_url, session=self.http, headers=self.headers, timeout=60, allow_redirects=False
        )
        self.sent += 1
        label = case.operation.label
        if response.status_code >= 500 and (label, response.status_code) not in ALLOWED_5XX:
            body = response.content[:300].decode(errors="replace")
            self.failures.append(f"{label} -> {response.status_code} {body}\n  {case.as_curl_command()}")

    def explore(self, operation: APIOperation, examples: int, *, live: bool = False, **fixed: Any) -> None:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # The key is fixed: generated ones would only test the 401 path.
            strategy = operation.as_strategy(generation_mode=mode, headers=self.headers, **fixed)
            if live and operation.label.endswith("/page/execute"):
                strategy = strategy.filter(_instant)

            @settings(
                max_examples=examples,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
                deadline=None,
                database=None,
                derandomize=True,  # the same requests on every run
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Case) -> None:
                self.send(case)

            # Nothing to make invalid (no parameters, no body) is not a finding.
            with contextlib.suppress(Unsatisfiable):
                run()


def _instant(case: Case) -> bool:
    body = case.body
    return not isinstance(body, dict) or body.get("type") in INSTANT_ACTIONS


@pytest.fixture(scope="module")
def tenant_key(lanterna_server: LanternaServer) -> str:
    """A tenant of its own, so the generated sessions and agents meet no other test's."""
    return lanterna_server.new_key("fuzz")


@pytest.fixture(scope="module")
def api(lanterna_server: LanternaServer, tenant_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tenant_key}"}
    with httpx.Client(base_url=lanterna_server.url, headers=headers, timeout=60) as client:
        yield client
        _close_everything(client)


def _close_everything(api: httpx.Client) -> None:
    """Stop the tenant's agents and close its sessions (bounded: a page at a time, a few pages)."""
    for kind, stop in (("agents", "/agents/{}/stop"), ("sessions", "/sessions/{}/stop")):
        for _ in range(20):
            items = api.get(f"/{kind}", params={"only_active": True, "page_size": 100}).json()["items"]
            if not items:
                break
            for item in items:
                api.delete(stop.format(item["agent_id" if kind == "agents" else "session_id"]))


def test_generated_requests_get_no_server_error(
    lanterna_server: LanternaServer, tenant_key: str, api: httpx.Client
) -> None:
    assert lanterna_server.url.startswith("http://127.0.0.1:")
    headers = {"Authorization": f"Bearer {tenant_key}"}
    schema = schemathesis.openapi.from_url(f"{lanterna_server.url}/openapi.json", headers=headers, timeout=30)
    fuzz = FuzzRun(base_url=lanterna_server.url, headers=headers, deadline=time.monotonic() + BUDGET_S)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]

    for operation in operations:
        fuzz.explore(operation, START_EXAMPLES if operation.label == "POST /sessions/start" else EXAMPLES)
    live = api.post("/sessions/start", json={})
    assert live.status_code == 200, live.text
    session_id = live.json()["session_id"]
    for operation in operations:
        if operation.label in LIVE_SESSION_OPERATIONS:
            fuzz.explore(operation, EXAMPLES, live=True, path_parameters={"session_id": session_id})

    assert time.monotonic() < fuzz.deadline, f"the budget ran out after {fuzz.sent} requests"
    assert fuzz.sent >= 200, f"only {fuzz.sent} requests were generated"
    assert not fuzz.failures, f"{len(fuzz.failures)} of {fuzz.sent} requests got a 5xx:\n" + "\n".join(
        fuzz.failures[:20]
    )
