"""A local MCP server over streamable HTTP on 127.0.0.1: headers sent, calls answered, a
server that is not there shown as failed."""

from __future__ import annotations

import socket

from tests.tools.conftest import next_of
from tui.config.tools import Approval, McpServerSettings, ToolsSettings
from tui.tools.results import CallStatus
from tui.tools.updates import CallFinished, Phase, ServerChanged


def http_server(url: str, **headers: str) -> McpServerSettings:
    return McpServerSettings(name="web", url=url, headers=headers)


async def test_an_http_server_is_listed_and_called_with_its_headers(make_box, http_url) -> None:
    settings = ToolsSettings(
        mcp=[http_server(http_url, **{"X-Team": "blue-team"})],
        approvals={"web__*": Approval.ALWAYS},
    )
    box = make_box(settings)
    box.start()
    ready = await next_of(box, ServerChanged, lambda u: u.state.phase is Phase.READY)
    assert ready.state.tools == 8
    assert "web__echo" in {tool["name"] for tool in box.tools()}
    box.on_function_call("call_1", "web__echo", '{"text": "over http"}')
    assert (await next_of(box, CallFinished)).item["output"] == "over http"
    # the header reached the server; its value is a configured secret, so it is masked
    box.on_function_call("call_2", "web__header", '{"name": "X-Team"}')
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.OK
    assert finished.item["output"] == "***"
    assert "blue-team" not in finished.rendered.summary + finished.rendered.full_text


async def test_an_http_server_that_is_not_there_is_shown_as_failed(make_box) -> None:
    with socket.socket() as probe:  # a free port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def no_wait(_delay: float) -> None:
        return None

    box = make_box(
        ToolsSettings(mcp=[http_server(f"http://127.0.0.1:{port}/mcp")], start_timeout_s=10),
        sleep=no_wait,
    )
    box.start()
    failed = await next_of(box, ServerChanged, lambda u: u.state.phase is Phase.FAILED)
    assert failed.state.name == "web"
    assert failed.state.reason.startswith(f"cannot connect to http://127.0.0.1:{port}/mcp (")
    retrying = await next_of(box, ServerChanged, lambda u: u.state.phase is Phase.RETRYING)
    assert retrying.state.retry_in_s == 1.0
