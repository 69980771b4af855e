"""Persistent profile routes (``/profiles/...``): saved browser state sessions start from."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from lanterna.server.auth import CurrentRuntime, Tenant
from lanterna.server.routes.listing import PageNumber, PageSize
from lanterna.wire import (
    ErrorBody,
    Page,
    ProfileCreateRequest,
    ProfileDeleteResponse,
    ProfileResponse,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
    404: {"model": ErrorBody, "description": "No such profile for this API key"},
    422: {"model": ErrorBody, "description": "Invalid body or parameters; the message names each field"},
}

router = APIRouter(prefix="/profiles", tags=["profiles"], responses=_ERRORS)


@router.post("/create", response_model=ProfileResponse)
async def create_profile(
    runtime: CurrentRuntime, tenant: Tenant, request: Annotated[ProfileCreateRequest | None, Body()] = None
) -> ProfileResponse:
    """Create an empty profile. Start a session with ``profile={"id": ..., "persist": true}`` to fill it."""
    profile = await runtime.profiles.create(tenant, (request or ProfileCreateRequest()).name)
    return ProfileResponse.of(profile)


@router.get("", response_model=Page[ProfileResponse])
@router.get("/", response_model=Page[ProfileResponse], include_in_schema=False)
async def list_profiles(
    runtime: CurrentRuntime,
    tenant: Tenant,
    name: Annotated[str | None, Query(max_length=200)] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[ProfileResponse]:
    """Your profiles, newest first; ``name`` keeps those of that name."""
    profiles, total = await runtime.profiles.list(tenant, name=name, page=page, page_size=page_size)
    return Page[ProfileResponse](
        items=[ProfileResponse.of(p) for p in profiles], page=page, page_size=page_size, total=total
    )


@router.get("/{profile_id}", response_model=ProfileResponse)
async def get_profile(profile_id: str, runtime: CurrentRuntime, tenant: Tenant) -> ProfileResponse:
    """One profile, with the domains its saved state holds cookies or storage for."""
    return ProfileResponse.of(await runtime.profiles.get(tenant, profile_id))


@router.delete(
    "/{profile_id}",
    response_model=ProfileDeleteResponse,
    responses={409: {"model": ErrorBody, "description": "A live session saves into the profile"}},
)
async def delete_profile(profile_id: str, runtime: CurrentRuntime, tenant: Tenant) -> ProfileDeleteResponse:
    """Delete the profile and its saved state."""
    await runtime.profiles.delete(tenant, profile_id)
    return ProfileDeleteResponse(success=True, message=f"profile '{profile_id}' deleted")
