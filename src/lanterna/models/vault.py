"""Vault data: credentials and a credit card a tenant stores, and the placeholders agents see.

A reasoner never receives a secret: it is told the placeholder of each secret the page's site
has (``[[vault:password]]`` …) and writes the placeholder into its action; the agent loop puts
the real value in only when the action runs, and takes it out of everything recorded.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

import pyotp
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from lanterna.models.actions import MAX_NAME, Name, _no_nul

Secret = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME), AfterValidator(_no_nul)]


class SecretField(StrEnum):
    """Every kind of secret a vault holds; each has one placeholder."""

    username = "username"
    email = "email"
    password = "password"
    mfa_secret = "mfa_secret"
    card_holder_name = "card_holder_name"
    card_number = "card_number"
    card_cvv = "card_cvv"
    card_full_expiration = "card_full_expiration"

    @property
    def placeholder(self) -> str:
        return f"[[vault:{self.value}]]"


CARD_FIELDS = (
    SecretField.card_holder_name,
    SecretField.card_number,
    SecretField.card_cvv,
    SecretField.card_full_expiration,
)


def _valid_totp_secret(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        pyotp.TOTP(value).now()
    except Exception as exc:
        raise ValueError(
            "mfa_secret is not a base32 TOTP secret (the text under the QR code, e.g. "
            "'JBSWY3DPEHPK3PXP'); store the secret, not a one-time code"
        ) from exc
    return value


class Credentials(BaseModel):
    """A login for one site: a username or an email, a password, and optionally a TOTP secret."""

    username: Secret | None = None
    email: Secret | None = None
    password: Secret
    mfa_secret: Annotated[Secret | None, AfterValidator(_valid_totp_secret)] = None

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # notte's client refuses null for an absent username or email: absent means left out.
        return {k: v for k, v in handler(self).items() if v is not None}

    @model_validator(mode="after")
    def _one_login(self) -> Credentials:
        if (self.username is None) == (self.email is None):
            raise ValueError("give exactly one of 'username' or 'email' with the password")
        return self

    def secrets(self) -> dict[SecretField, str]:
        return {SecretField(k): v for k, v in self.model_dump(exclude_none=True).items()}


class CreditCard(BaseModel):
    card_holder_name: Secret
    card_number: Secret
    card_cvv: Secret
    card_full_expiration: Secret

    def secrets(self) -> dict[SecretField, str]:
        return {SecretField(k): v for k, v in self.model_dump().items()}


class VaultInfo(BaseModel):
    vault_id: str
    name: str
    created_at: datetime
    for_persona: bool = False


class CredentialSite(BaseModel):
    """Which login a vault holds for a site: never the password."""

    url: str
    username: str | None = None
    email: str | None = None


def site_of(url: str) -> str:
    """The site a credential belongs to: the host without ``www.`` and port (``shop.example.com``
    for ``https://www.shop.example.com/login``); a bare domain is taken as is. Empty if none."""
    text = url.strip().lower()
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def site_matches(site: str, page_url: str) -> bool:
    """Whether a credential stored for ``site`` is for the page at ``page_url`` (same host or a
    subdomain of it; an IP address only matches itself)."""
    host = site_of(page_url)
    if not site or not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == site or host.endswith("." + site)
    return host == site


class AgentVault(BaseModel):
    """What an agent run holds from its vault: the logins by site and the card. Lives in memory
    for the run only and is never serialised into a step, a log line or a prompt."""

    vault_id: Name
    credentials: dict[str, Credentials] = Field(default_factory=dict)
    card: CreditCard | None = None

    def for_page(self, page_url: str) -> dict[SecretField, str]:
        """The secrets usable on the page at ``page_url``: its site's login and the card."""
        found: dict[SecretField, str] = {}
        # The longest matching site wins (login.example.com over example.com).
        for site in sorted(self.credentials, key=len):
            if site_matches(site, page_url):
                found.update(self.credentials[site].secrets())
        if self.card is not None:
            found.update(self.card.secrets())
        return found

    def all_secrets(self) -> list[str]:
        values = {v for creds in self.credentials.values() for v in creds.secrets().values()}
        if self.card is not None:
            values |= set(self.card.secrets().values())
        return sorted(values, key=len, reverse=True)  # longest first: no partial replacement
