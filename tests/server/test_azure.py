"""Azure OpenAI: the key in an `api-key` header, the deployment as the model, the GA path.

The built-in server takes Azure's GA path (/openai/v1/realtime) and, there only, an `api-key`
header; with `LocalServer(api_key=...)` it refuses any other credential, so a test sees which
header carried which key. Its records never keep either header.
"""

from __future__ import annotations

import pytest

from tests.session.helpers import Desk
from tests.session.test_session import live, running
from tui.config import URL_EXAMPLE, safe_url, with_value
from tui.errors import AuthError
from tui.localserver import LocalServer
from tui.localserver.server import AZURE_PATH
from tui.realtime.auth import auth_headers, auth_scheme, is_azure
from tui.realtime.connection import RealtimeConnection

KEY = "azure-key-0123456789abcdef0123456789"
DEPLOYMENT = "my-realtime-deployment"
AZURE = "wss://my-resource.openai.azure.com/openai/v1/realtime"
FOUNDRY = "wss://my-resource.cognitiveservices.azure.com/openai/v1/realtime"


@pytest.mark.parametrize(
    ("url", "auth", "scheme"),
    [
        (URL_EXAMPLE, "auto", "bearer"),
        (AZURE, "auto", "api-key"),
        (FOUNDRY, "auto", "api-key"),
        ("wss://MY-RESOURCE.OpenAI.Azure.com./openai/v1/realtime", "auto", "api-key"),
        (AZURE, "bearer", "bearer"),  # an Entra ID token
        ("wss://gateway.example.com/openai/v1/realtime", "api-key", "api-key"),  # behind a proxy
        ("wss://openai.azure.com.example.com/v1/realtime", "auto", "bearer"),
        ("wss://[::1/v1/realtime", "auto", "bearer"),  # unparsable: not Azure
    ],
)
def test_the_host_picks_the_header_unless_the_setting_says(
    url: str, auth: str, scheme: str
) -> None:
    assert auth_scheme(url, auth) == scheme
    header = {"api-key": KEY} if scheme == "api-key" else {"Authorization": f"Bearer {KEY}"}
    assert auth_headers(url, KEY, auth) == header
    assert auth_headers(url, None, auth) == {}


def test_azure_hosts_are_recognised_by_their_suffix() -> None:
    assert is_azure(AZURE) and is_azure(FOUNDRY)
    assert not is_azure(URL_EXAMPLE) and not is_azure("wss://azure.com/openai/v1/realtime")


def test_the_key_in_an_azure_url_is_never_shown() -> None:
    shown = safe_url(f"{AZURE}?model={DEPLOYMENT}&api-key={KEY}")
    assert KEY not in shown and f"model={DEPLOYMENT}" in shown


async def test_the_azure_key_goes_in_the_api_key_header_with_the_deployment_as_model() -> None:
    async with LocalServer(api_key=KEY) as server:
        conn = RealtimeConnection(server.azure_url, DEPLOYMENT, KEY, auth="api-key")
        await conn.connect()
        try:
            record = await server.wait_for_session()
            assert server.handshakes == [101]
            assert record.auth == "api-key", "the key came in api-key, no Bearer was sent"
            assert record.model == DEPLOYMENT
            assert conn.full_url == f"{server.azure_url}?model={DEPLOYMENT}"
            assert AZURE_PATH == "/openai/v1/realtime"
            sent = {name.lower() for name in record.headers}
            assert "authorization" not in sent and "api-key" not in sent, "records keep no key"
            assert KEY not in repr(record.headers)
        finally:
            await conn.close()


async def test_a_wrong_key_is_refused_and_not_repeated() -> None:
    async with LocalServer(api_key=KEY) as server:
        conn = RealtimeConnection(
            server.azure_url, DEPLOYMENT, "wrong-key-0123456789", auth="api-key"
        )
        with pytest.raises(AuthError) as caught:
            await conn.connect()
        assert server.handshakes == [401] and server.sessions == []
        assert "wrong-key" not in str(caught.value) and "[connection] auth" in str(caught.value)


async def test_openai_takes_no_api_key_header() -> None:
    async with LocalServer(api_key=KEY) as server:
        conn = RealtimeConnection(server.url, "gpt-realtime-2", KEY, auth="api-key")
        with pytest.raises(AuthError):
            await conn.connect()
        assert server.handshakes == [401]


async def test_auto_sends_bearer_to_a_host_that_is_not_azure() -> None:
    async with LocalServer(api_key=KEY) as server:
        conn = RealtimeConnection(server.azure_url, DEPLOYMENT, KEY)  # loopback: Bearer
        await conn.connect()
        await conn.close()
        assert (await server.wait_for_session()).auth == "bearer"


async def test_a_session_configured_for_azure_converses() -> None:
    """The settings a user writes for Azure reach the wire: url, deployment, auth."""
    async with (
        LocalServer(api_key=KEY) as server,
        running(
            server,
            api_key=KEY,
            connection__url=server.azure_url,
            connection__model=DEPLOYMENT,
            connection__auth="api-key",
        ) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        record = server.sessions[0]
        assert (record.auth, record.model) == ("api-key", DEPLOYMENT)
        session.send_text("hello Azure")
        await rec.wait_for(
            lambda: any(e["type"] == "response.done" for e in record.sent), what="a reply"
        )


def test_changing_how_the_key_is_sent_reconnects() -> None:
    desk = Desk()
    changed = with_value(desk.settings, "connection.auth", "api-key")
    assert desk.rooms.apply_settings(desk.settings, changed, connected=True).reconnect
    same = with_value(desk.settings, "session.speed", 1.2)
    assert not desk.rooms.apply_settings(desk.settings, same, connected=True).reconnect
