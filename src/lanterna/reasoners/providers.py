"""Provider routing: a model string ``provider/model`` → the endpoint's base URL, key and model name.

Keys come from ``Settings`` (``OPENAI_API_KEY``, … or ``LANTERNA_LLM_API_KEY``); ``LANTERNA_LLM_BASE_URL``
points any model at another OpenAI-compatible endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from lanterna.config import Settings
from lanterna.errors import InvalidRequestError


@dataclass(frozen=True)
class Provider:
    base_url: str | None  # None: ``Settings.vllm_base_url``
    key_field: str | None  # the ``Settings`` field holding the key; None: no key needed

    @property
    def key_variable(self) -> str | None:
        """The environment variable a user sets for this provider's key."""
        return self.key_field.upper() if self.key_field else None


PROVIDERS: dict[str, Provider] = {
    "openai": Provider("https://api.openai.com/v1", "openai_api_key"),
    "anthropic": Provider("https://api.anthropic.com/v1/", "anthropic_api_key"),
    "gemini": Provider("https://generativelanguage.googleapis.com/v1beta/openai/", "gemini_api_key"),
    "groq": Provider("https://api.groq.com/openai/v1", "groq_api_key"),
    "openrouter": Provider("https://openrouter.ai/api/v1", "openrouter_api_key"),
    "ollama": Provider("http://127.0.0.1:11434/v1", None),
    "vllm": Provider(None, None),
}

# Local servers ignore the key, but the client library insists on one.
NO_KEY = "not-needed"


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: SecretStr | None  # None: the variable named in missing_key is not set
    model: str
    missing_key: str | None = None


def _key(settings: Settings, field: str | None) -> SecretStr | None:
    value = getattr(settings, field) if field else None
    return value if isinstance(value, SecretStr) and value.get_secret_value() else None


def resolve_endpoint(model: str, settings: Settings) -> Endpoint:
    """Base URL, key and bare model name for ``provider/model``.

    Raises ``InvalidRequestError`` for a model string no endpoint can serve.
    """
    provider_name, sep, name = model.partition("/")
    if not sep or not name:
        raise InvalidRequestError(
            f"model {model!r} is not 'provider/model' (e.g. 'openai/gpt-4o-mini'), 'offline' or 'scripted'"
        )
    provider = PROVIDERS.get(provider_name)
    override_key = _key(settings, "llm_api_key")
    if settings.llm_base_url:
        own_key = _key(settings, provider.key_field) if provider else None
        return Endpoint(settings.llm_base_url, override_key or own_key or SecretStr(NO_KEY), name)
    if provider is None:
        known = ", ".join(f"{p}/" for p in PROVIDERS)
        raise InvalidRequestError(
            f"unknown model provider {provider_name!r}: use one of {known} "
            "or set LANTERNA_LLM_BASE_URL to an OpenAI-compatible endpoint"
        )
    base_url = provider.base_url or settings.vllm_base_url
    if not base_url:
        raise InvalidRequestError(f"model {model!r} needs VLLM_BASE_URL (e.g. http://127.0.0.1:8001/v1)")
    if provider.key_field is None:
        return Endpoint(base_url, override_key or SecretStr(NO_KEY), name)
    api_key = _key(settings, provider.key_field) or override_key
    return Endpoint(base_url, api_key, name, missing_key=None if api_key else provider.key_variable)
