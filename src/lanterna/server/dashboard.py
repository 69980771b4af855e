"""The dashboard at ``/`` and the live viewer page: sign-in with an API key, then plain HTML/JS.

The key is kept in an HttpOnly, SameSite=Strict cookie (``auth.DASHBOARD_COOKIE``); the pages'
scripts call the same REST and WebSocket API as any client, so a tenant sees only its own data.
Every page is served with a strict Content-Security-Policy: scripts only from this server, no
inline script, so text a tenant controls (tasks, answers, page titles) can never run as code.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lanterna.server.auth import DASHBOARD_COOKIE, runtime_of

STATIC_DIR = Path(__file__).with_name("static")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make form posts send Origin: null
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
COOKIE_MAX_AGE_S = 7 * 24 * 3600
MAX_KEY_LENGTH = 200

router = APIRouter(include_in_schema=False)


def _page(name: str, **values: str) -> HTMLResponse:
    """A page from ``static/``, with ``{{name}}`` placeholders replaced by escaped values."""
    html = (STATIC_DIR / name).read_text(encoding="utf-8")
    for key, value in values.items():
        html = html.replace("{{" + key + "}}", escape(value))
    return HTMLResponse(html, headers=SECURITY_HEADERS)


async def _signed_in(request: Request) -> bool:
    key = request.cookies.get(DASHBOARD_COOKIE)
    return key is not None and await runtime_of(request).store.keys.authenticate(key) is not None


@router.get("/")
async def dashboard(request: Request) -> Response:
    """The dashboard, or the sign-in page."""
    if await _signed_in(request):
        return _page("dashboard.html")
    return _page("sign-in.html", message="")


@router.post("/dashboard/sign-in")
async def sign_in(
    request: Request, api_key: Annotated[str, Form(max_length=MAX_KEY_LENGTH)] = ""
) -> Response:
    """Check the key and keep it in the cookie; a wrong one gets the page back with a message."""
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        return _page("sign-in.html", message="Sign in from this server's own page.")
    key = api_key.strip()
    if not key or await runtime_of(request).store.keys.authenticate(key) is None:
        page = _page("sign-in.html", message="That API key is not valid (or it was revoked). Try another.")
        page.status_code = 401
        return page
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        DASHBOARD_COOKIE,
        key,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/dashboard/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(DASHBOARD_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/sessions/viewer/index.html")
async def viewer() -> Response:
    """The live view of a session: ``?ws=<ws.recording URL>``, ``&interactive=true`` for input."""
    return _page("viewer.html")


@router.get("/dashboard/static/{name}")
async def static(name: str) -> Response:
    """The dashboard's own scripts and styles (no third-party code)."""
    media = {".js": "text/javascript", ".css": "text/css"}
    path = STATIC_DIR / name
    if path.suffix not in media or path.parent != STATIC_DIR or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        path.read_bytes(),
        media_type=media[path.suffix],
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )
