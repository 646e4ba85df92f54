"""A local MCP server over streamable HTTP on 127.0.0.1 (the real SDK server,
tests/tools/mcp_fixture_server.py): headers sent, calls answered, a server that is not there
shown as failed, one that dies mid-session shown gone and back, a call that never returns
timed out without holding up others, a 1 MB result cut at the configured size."""

from __future__ import annotations

import asyncio
import re
import socket

from tests.tools.conftest import NEXT_OF_TIMEOUT_S, HttpFixture, next_of
from tui.config.tools import Approval, McpServerSettings, ToolsSettings
from tui.tools.results import CallStatus
from tui.tools.updates import CallFinished, CallStarted, Phase, ServerChanged, ToolsChanged

CLOSED_DURING_CALL = (
    "The call failed: the MCP server closed the connection during the call. Its result is unknown."
)


class Gate:
    """The backoff's sleep: holds every retry until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.slept: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        await self.opened.wait()


def phase(wanted: Phase):
    return lambda u: u.state.phase is wanted


def web_box(make_box, url: str, **settings):
    settings.setdefault("approvals", {"web__*": Approval.ALWAYS})
    return make_box(ToolsSettings(mcp=[http_server(url)], **settings), sleep=Gate().sleep)


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


async def test_a_server_killed_mid_call_fails_the_call_is_shown_gone_and_comes_back(
    make_box, http_fixture: HttpFixture
) -> None:
    """The server process dies during a call (`crash` exits it). Over HTTP nothing closes
    (each request is its own connection), so the call's broken stream is the only sign: the
    call is answered as failed AND the server is shown gone at once, not left 'ready'."""
    gate = Gate()
    settings = ToolsSettings(
        mcp=[http_server(http_fixture.url)], approvals={"web__*": Approval.ALWAYS}
    )
    box = make_box(settings, sleep=gate.sleep)
    box.start()
    await next_of(box, ServerChanged, phase(Phase.READY))
    box.on_function_call("call_c", "web__crash", "{}")
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert finished.rendered.status is CallStatus.FAILED
    assert finished.item["output"] == CLOSED_DURING_CALL
    await next_of(box, ToolsChanged, lambda u: u.tools == (), seen=seen)
    failed = await next_of(box, ServerChanged, phase(Phase.FAILED), seen=seen)
    assert failed.state.reason.startswith(f"cannot connect to {http_fixture.url} (")
    retrying = await next_of(box, ServerChanged, phase(Phase.RETRYING), seen=seen)
    assert retrying.state.retry_in_s == 1.0
    assert box.tools() == []
    box.on_function_call("call_x", "web__echo", '{"text": "anyone?"}')
    refused = await next_of(box, CallFinished)
    assert refused.rendered.status is CallStatus.FAILED  # said at once, nothing sent
    assert "web__echo is not available: MCP server web: retrying" in refused.item["output"]

    assert http_fixture.process.wait(timeout=10) == 3  # the crash ended the process
    http_fixture.restart()  # the same port
    gate.opened.set()
    await next_of(box, ServerChanged, phase(Phase.READY))
    assert box.server_states()["web"].attempt == 2
    box.on_function_call("call_e", "web__echo", '{"text": "back"}')
    assert (await next_of(box, CallFinished)).item["output"] == "back"


async def test_a_server_killed_between_calls_fails_the_next_call_and_is_retried(
    make_box, http_fixture: HttpFixture
) -> None:
    box = web_box(make_box, http_fixture.url)
    box.start()
    await next_of(box, ServerChanged, phase(Phase.READY))
    http_fixture.kill()  # SIGKILL while idle: no goodbye
    box.on_function_call("call_k", "web__echo", '{"text": "hello?"}')
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert finished.rendered.status is CallStatus.FAILED
    assert "its result is unknown" in finished.item["output"].lower()
    await next_of(box, ServerChanged, phase(Phase.RETRYING), seen=seen)
    failed = [
        u.state for u in seen if isinstance(u, ServerChanged) and u.state.phase is Phase.FAILED
    ]
    assert failed, "the server was never shown as failed"
    assert box.tools() == []


async def test_a_call_that_never_returns_times_out_and_the_server_still_answers(
    make_box, http_url: str
) -> None:
    box = web_box(make_box, http_url, call_timeout_s=1)
    box.start()
    await next_of(box, ServerChanged, phase(Phase.READY))
    box.on_function_call("call_h", "web__hang", "{}")
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.TIMED_OUT
    assert finished.item["output"] == (
        "The call did not finish within 1 s and was abandoned; its result is unknown."
    )
    assert box.server_states()["web"].phase is Phase.READY
    box.on_function_call("call_e", "web__echo", '{"text": "still here"}')
    assert (await next_of(box, CallFinished)).item["output"] == "still here"


async def test_a_call_that_never_returns_holds_up_no_other_call(make_box, http_url: str) -> None:
    """Proved by events: while the hung call runs (its timeout is longer than next_of
    waits), another call to the same server is answered; then a barge-in cancels the
    hung one, which still gets its output."""
    box = web_box(make_box, http_url, call_timeout_s=2 * NEXT_OF_TIMEOUT_S)
    box.start()
    await next_of(box, ServerChanged, phase(Phase.READY))
    box.on_function_call("call_h", "web__hang", "{}")
    await next_of(box, CallStarted, lambda u: u.call_id == "call_h")
    box.on_function_call("call_e", "web__echo", '{"text": "meanwhile"}')
    seen: list = []
    answered = await next_of(box, CallFinished, seen=seen)
    assert (answered.call_id, answered.item["output"]) == ("call_e", "meanwhile")
    assert box.cancel_running() == ["call_h"]
    cancelled = await next_of(box, CallFinished, seen=seen)
    assert (cancelled.call_id, cancelled.rendered.status) == ("call_h", CallStatus.CANCELLED)
    box.on_function_call("call_f", "web__echo", '{"text": "after"}')
    assert (await next_of(box, CallFinished)).item["output"] == "after"


async def test_a_1_mb_result_is_cut_for_the_model_at_the_configured_size(
    make_box, http_url: str
) -> None:
    box = web_box(make_box, http_url, result_limit_kib=4)
    box.start()
    await next_of(box, ServerChanged, phase(Phase.READY))
    box.on_function_call("call_b", "web__big", '{"size": 1000000}')
    finished = await next_of(box, CallFinished)
    output = finished.item["output"]
    assert finished.rendered.status is CallStatus.OK
    assert 3 * 1024 < len(output.encode()) <= 4 * 1024
    assert output.startswith("xxxx")
    note = re.search(
        r"\n\[cut: the result was 976\.6 KiB; only the first (.+) are shown\]$", output
    )
    assert note is not None and note.group(1).endswith("KiB"), output[-120:]
    assert len(finished.rendered.full_text) == 1_000_000  # the log can still show it all
    assert finished.rendered.summary.endswith("(976.6 KiB)")


async def test_an_answer_too_big_to_read_fails_the_call_and_the_server_stays_ready(
    make_box, http_url: str, monkeypatch
) -> None:
    """Past the HTTP message bound the SDK cannot read the answer: the call says so (not
    'closed the connection'), and the server, still there (it answers a ping), stays ready."""
    from tui.tools import mcp_client

    monkeypatch.setattr(mcp_client, "MAX_HTTP_MESSAGE_BYTES", 64 * 1024)
    box = web_box(make_box, http_url)
    box.start()
    await next_of(box, ServerChanged, phase(Phase.READY))
    box.on_function_call("call_b", "web__big", '{"size": 100000}')
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert finished.rendered.status is CallStatus.FAILED
    assert finished.item["output"].startswith(
        "The call failed: the MCP server's answer could not be read ("
    )
    box.on_function_call("call_e", "web__echo", '{"text": "fine"}')
    assert (await next_of(box, CallFinished, seen=seen)).item["output"] == "fine"
    assert not any(isinstance(u, ServerChanged) for u in seen)  # never shown gone
    assert box.server_states()["web"].phase is Phase.READY
