"""Vault routes (``/vaults/...``): a tenant's credentials and card, for agents that log in.

Secrets go in over HTTPS (or loopback) and are stored AES-GCM encrypted; another tenant's vault
is a 404. An agent started with ``vault_id`` sees placeholders only (see ``models/vault.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from lanterna.models.actions import Url
from lanterna.models.vault import VaultInfo
from lanterna.server.auth import CurrentRuntime, Tenant
from lanterna.server.routes.listing import PageNumber, PageSize
from lanterna.wire import (
    ErrorBody,
    Page,
    VaultCardRequest,
    VaultCardResponse,
    VaultCreateRequest,
    VaultCredentialsListResponse,
    VaultCredentialsRequest,
    VaultCredentialsResponse,
    VaultStatusResponse,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
    404: {"model": ErrorBody, "description": "No such vault (or not yours), or nothing stored for that site"},
    422: {"model": ErrorBody, "description": "A malformed body: the message names the field to fix"},
}

router = APIRouter(prefix="/vaults", tags=["vaults"], responses=_ERRORS)
UrlQuery = Annotated[Url, Query(min_length=1, description="the site: a URL or a domain")]


@router.post("/create", response_model=VaultInfo)
async def create_vault(
    runtime: CurrentRuntime, tenant: Tenant, body: VaultCreateRequest | None = None
) -> VaultInfo:
    """A new, empty vault. Keep its ``vault_id``: agents take it as ``vault_id``."""
    return await runtime.vaults.create(tenant, (body or VaultCreateRequest()).name)


@router.get("", response_model=Page[VaultInfo])
@router.get("/", response_model=Page[VaultInfo], include_in_schema=False)
async def list_vaults(
    runtime: CurrentRuntime,
    tenant: Tenant,
    only_active: bool = True,  # sent by notte's client; every vault is active
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[VaultInfo]:
    """Your vaults, newest first."""
    items = await runtime.vaults.list(tenant, page, page_size)
    return Page(items=items, page=page, page_size=page_size, total=len(items))


@router.get("/{vault_id}", response_model=VaultCredentialsListResponse)
async def list_credentials(
    vault_id: str, runtime: CurrentRuntime, tenant: Tenant
) -> VaultCredentialsListResponse:
    """The sites the vault holds a login for, with the username or email (never the password)."""
    return VaultCredentialsListResponse(credentials=await runtime.vaults.list_credentials(tenant, vault_id))


@router.delete("/{vault_id}", response_model=VaultStatusResponse)
async def delete_vault(vault_id: str, runtime: CurrentRuntime, tenant: Tenant) -> VaultStatusResponse:
    """Delete the vault and every secret in it."""
    await runtime.vaults.delete(tenant, vault_id)
    return VaultStatusResponse(message="Vault deleted successfully")


@router.post("/{vault_id}/credentials", response_model=VaultStatusResponse)
async def add_credentials(
    vault_id: str, body: VaultCredentialsRequest, runtime: CurrentRuntime, tenant: Tenant
) -> VaultStatusResponse:
    """Store (or replace) the login for a site; ``url`` may be a page URL or a domain."""
    site = await runtime.vaults.add_credentials(tenant, vault_id, body.url, body.credentials)
    return VaultStatusResponse(message=f"credentials stored for {site}")


@router.get("/{vault_id}/credentials", response_model=VaultCredentialsResponse)
async def get_credentials(
    vault_id: str, url: UrlQuery, runtime: CurrentRuntime, tenant: Tenant
) -> VaultCredentialsResponse:
    """The stored login for the site of ``url``, password included (for its owner only)."""
    return VaultCredentialsResponse(credentials=await runtime.vaults.get_credentials(tenant, vault_id, url))


@router.delete("/{vault_id}/credentials", response_model=VaultStatusResponse)
async def delete_credentials(
    vault_id: str, url: UrlQuery, runtime: CurrentRuntime, tenant: Tenant
) -> VaultStatusResponse:
    await runtime.vaults.delete_credentials(tenant, vault_id, url)
    return VaultStatusResponse(message="Credentials deleted successfully")


@router.post("/{vault_id}/card", response_model=VaultStatusResponse)
async def set_card(
    vault_id: str, body: VaultCardRequest, runtime: CurrentRuntime, tenant: Tenant
) -> VaultStatusResponse:
    """Store (or replace) the vault's one credit card."""
    await runtime.vaults.set_card(tenant, vault_id, body.credit_card)
    return VaultStatusResponse(message="credit card stored")


@router.get("/{vault_id}/card", response_model=VaultCardResponse)
async def get_card(vault_id: str, runtime: CurrentRuntime, tenant: Tenant) -> VaultCardResponse:
    return VaultCardResponse(credit_card=await runtime.vaults.get_card(tenant, vault_id))


@router.delete("/{vault_id}/card", response_model=VaultStatusResponse)
async def delete_card(vault_id: str, runtime: CurrentRuntime, tenant: Tenant) -> VaultStatusResponse:
    await runtime.vaults.delete_card(tenant, vault_id)
    return VaultStatusResponse(message="Credit card deleted successfully")
