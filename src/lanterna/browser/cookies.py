"""Cookies between lanterna's ``Cookie`` and Playwright's own dictionaries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lanterna.models.cookies import Cookie

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam  # Playwright exports no public name


def cookie_from_playwright(cookie: dict[str, Any]) -> Cookie:
    """A cookie as the browser context reports it, in the shape users export."""
    expires = cookie.get("expires")
    session = expires is None or expires < 0
    return Cookie(
        name=cookie["name"],
        value=cookie["value"],
        domain=cookie.get("domain", ""),
        path=cookie.get("path", "/"),
        httpOnly=bool(cookie.get("httpOnly", False)),
        secure=cookie.get("secure"),
        sameSite=cookie.get("sameSite"),
        expires=None if session else expires,
        expirationDate=None if session else expires,
        session=session,
        hostOnly=not cookie.get("domain", "").startswith("."),
        partitionKey=cookie.get("partitionKey"),
    )


def cookie_to_playwright(cookie: Cookie) -> SetCookieParam:
    """A user's cookie as the browser context takes it."""
    out: SetCookieParam = {
        "name": cookie.name,
        "value": cookie.value,
        "domain": cookie.domain,
        "path": cookie.path or "/",
        "httpOnly": cookie.httpOnly,
    }
    expires = cookie.expires if cookie.expires is not None else cookie.expirationDate
    if expires is not None and expires >= 0 and not cookie.session:
        out["expires"] = expires
    if cookie.secure is not None:
        out["secure"] = cookie.secure
    if cookie.sameSite is not None:
        out["sameSite"] = cookie.sameSite
    return out
