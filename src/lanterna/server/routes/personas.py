"""``/personas/...``: personas (a hosted email inbox and phone number per identity) exist only
in Notte's hosted service; lanterna answers every persona call with 501 and says so."""

from __future__ import annotations

from fastapi import APIRouter

from lanterna.errors import NotSupportedError
from lanterna.server.auth import Tenant
from lanterna.wire import ErrorBody

PERSONAS_HOSTED_ONLY = (
    "personas (their email inbox and phone number) are hosted-only in Notte and lanterna does not "
    "offer them; store logins in a vault (POST /vaults/create) and start the agent with its vault_id"
)

router = APIRouter(
    prefix="/personas",
    tags=["personas"],
    responses={501: {"model": ErrorBody, "description": "Personas are not offered by lanterna"}},
)


@router.api_route("", methods=["GET", "POST", "DELETE"], include_in_schema=False)
@router.api_route("/{rest:path}", methods=["GET", "POST", "DELETE"])
async def personas(tenant: Tenant, rest: str = "") -> None:
    """Not offered: every persona call is a 501 naming the alternative (vaults)."""
    raise NotSupportedError(PERSONAS_HOSTED_ONLY)
