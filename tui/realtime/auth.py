"""How the API key reaches the endpoint: `Authorization: Bearer` or Azure's `api-key` header.

OpenAI takes `Authorization: Bearer <key>`. Azure OpenAI takes its resource key in an
`api-key` header and an Entra ID token as Bearer (docs/realtime-protocol.md 1.4). With
`[connection] auth = "auto"` the host decides: Azure OpenAI's hosts get `api-key`, any other
host Bearer; "bearer" or "api-key" say it outright (an Entra token, or Azure behind a proxy
or a custom domain the host does not give away).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tui.config.choices import AUTH_API_KEY, AUTH_AUTO, AUTH_BEARER

# the hosts of Azure OpenAI and of Azure AI Foundry (Cognitive Services) resources
AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com")


def is_azure(url: str) -> bool:
    """Whether the URL's host is an Azure OpenAI resource: RESOURCE.openai.azure.com or
    RESOURCE.cognitiveservices.azure.com."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return host.endswith(AZURE_HOST_SUFFIXES)


def auth_scheme(url: str, auth: str = AUTH_AUTO) -> str:
    """ "bearer" or "api-key": the setting, or for "auto" what the URL's host takes."""
    if auth == AUTH_AUTO:
        return AUTH_API_KEY if is_azure(url) else AUTH_BEARER
    return auth


def auth_headers(url: str, api_key: str | None, auth: str = AUTH_AUTO) -> dict[str, str]:
    """The handshake header that carries the key (none without a key)."""
    if not api_key:
        return {}
    if auth_scheme(url, auth) == AUTH_API_KEY:
        return {"api-key": api_key}
    return {"Authorization": f"Bearer {api_key}"}
