"""The tools link on a desk: function calls and approvals through the route table, with a
stand-in tool box (no server, no MCP): what is sent, when the one follow-up reply goes out,
barge-in, replay. Every client event it makes is checked against the SDK (tests/oracle.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.oracle import check_client_event
from tests.session.helpers import Desk, server_event
from tui.changes import (
    ApprovalAsked,
    ApprovalClosed,
    Role,
    ToolState,
    TurnFinished,
    TurnStarted,
)
from tui.session.effects import Send
from tui.session.reconnect import replay_events
from tui.tools.approvals import Answer, Ask, Settled
from tui.tools.items import function_call_output, mcp_approval_response
from tui.tools.results import CallStatus, Rendered
from tui.tools.updates import (
    ApprovalNeeded,
    ApprovalSettled,
    CallFinished,
    CallStarted,
    McpApprovalAnswered,
    ToolsChanged,
    Update,
)

CLOCK = {"type": "function", "name": "get_current_time", "description": "now", "parameters": {}}


@dataclass
class FakeBox:
    """Records what the session tells the tool box; the test posts the updates."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    remote: list[tuple[str, str, str, str]] = field(default_factory=list)
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    cancelled: int = 0
    listed: list[dict[str, Any]] = field(default_factory=lambda: [CLOCK])

    def start(self) -> None: ...

    def tools(self) -> list[dict[str, Any]]:
        return list(self.listed)

    def server_states(self) -> dict[str, Any]:
        return {}

    def on_function_call(self, call_id: str, name: str, arguments: str) -> None:
        self.calls.append((call_id, name, arguments))

    def on_mcp_approval_request(self, item_id: str, label: str, name: str, args: str) -> None:
        self.remote.append((item_id, label, name, args))

    def answer(self, ask_id: str, answer: Answer) -> bool:
        self.answers.append((ask_id, answer))
        return True

    def cancel_running(self) -> list[str]:
        self.cancelled += 1
        return []

    async def next_update(self) -> Update:
        raise NotImplementedError

    def pending_updates(self) -> list[Update]:
        return []

    async def aclose(self) -> None: ...


def tool_desk() -> tuple[Desk, FakeBox]:
    desk, box = Desk(), FakeBox()
    desk.rooms.tools.toolbox = box
    return desk, box


def call_item(call_id: str, name: str = "get_current_time", args: str = "{}") -> dict[str, Any]:
    return {
        "id": f"item_{call_id}",
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": args,
        "status": "completed",
    }


def model_calls(desk: Desk, *call_ids: str, response_id: str = "resp_1") -> None:
    """The model answers with function calls, GA order, up to (not including) response.done."""
    desk.receive(server_event("response.created", response={"id": response_id}))
    for index, call_id in enumerate(call_ids):
        item = {**call_item(call_id), "arguments": "", "status": "in_progress"}
        desk.receive(
            server_event(
                "response.output_item.added",
                response_id=response_id,
                output_index=index,
                item=item,
            )
        )
        fields = {"response_id": response_id, "item_id": f"item_{call_id}", "output_index": index}
        desk.receive(
            server_event(
                "response.function_call_arguments.delta", call_id=call_id, delta="{}", **fields
            )
        )
        desk.receive(
            server_event(
                "response.function_call_arguments.done",
                call_id=call_id,
                name="get_current_time",
                arguments="{}",
                **fields,
            )
        )
        desk.receive(
            server_event(
                "response.output_item.done",
                response_id=response_id,
                output_index=index,
                item=call_item(call_id),
            )
        )


def response_done(desk: Desk, *call_ids: str, response_id: str = "resp_1") -> None:
    output = [call_item(call_id) for call_id in call_ids]
    desk.receive(
        server_event(
            "response.done", response={"id": response_id, "status": "completed", "output": output}
        )
    )


def finished(call_id: str, status: CallStatus = CallStatus.OK) -> CallFinished:
    rendered = Rendered(status, f"output of {call_id}", f"summary of {call_id}", "full text")
    return CallFinished(
        call_id, "get_current_time", rendered, function_call_output(call_id, f"output of {call_id}")
    )


def update(desk: Desk, value: Update) -> list[Any]:
    start = len(desk.log)
    desk.act(desk.rooms.tools.on_update(value))
    return desk.log[start:]


def sent_events(desk: Desk) -> list[dict[str, Any]]:
    return [effect.event for effect in desk.of(Send)]


def test_a_call_runs_once_and_its_output_then_one_reply_go_out() -> None:
    desk, box = tool_desk()
    model_calls(desk, "call_1")
    response_done(desk, "call_1")
    # arguments.done, output_item.done and response.done all carry it: it runs once
    assert box.calls == [("call_1", "get_current_time", "{}")]
    [turn] = [change.turn for change in desk.of(TurnStarted) if change.turn.role is Role.TOOL]
    assert turn.tool is not None and turn.tool.name == "get_current_time"
    assert desk.sent() == []

    update(desk, CallStarted("call_1", "get_current_time", "{}", "read-only"))
    assert turn.tool.state is ToolState.RUNNING
    assert [t.item_id for t in desk.rooms.tools.running()] == [turn.item_id]
    update(desk, finished("call_1"))
    assert desk.sent() == ["conversation.item.create", "response.create"]
    create = sent_events(desk)[0]
    assert create["item"] == function_call_output("call_1", "output of call_1")
    assert turn.tool.state is ToolState.DONE and turn.tool.summary == "summary of call_1"
    assert turn in desk.written  # the finished call goes to the transcript
    assert desk.rooms.tools.running() == []
    for event in sent_events(desk):
        check_client_event(event)


def test_the_reply_waits_for_every_call_of_the_response_and_for_its_end() -> None:
    desk, _ = tool_desk()
    model_calls(desk, "call_1", "call_2")
    update(desk, finished("call_1"))  # before response.done: no reply may start yet
    assert desk.sent() == ["conversation.item.create"]
    response_done(desk, "call_1", "call_2")
    assert desk.sent() == ["conversation.item.create"]  # call_2 is still open
    update(desk, finished("call_2"))
    assert desk.sent() == ["conversation.item.create"] * 2 + ["response.create"]


def test_a_fast_call_answered_before_response_done_gets_its_reply_then() -> None:
    desk, _ = tool_desk()
    model_calls(desk, "call_1")
    update(desk, finished("call_1"))
    assert desk.sent() == ["conversation.item.create"]
    response_done(desk, "call_1")
    assert desk.sent() == ["conversation.item.create", "response.create"]


def test_no_reply_while_another_response_runs_it_comes_at_that_ones_end() -> None:
    desk, _ = tool_desk()
    model_calls(desk, "call_1")
    response_done(desk, "call_1")
    desk.receive(server_event("response.created", response={"id": "resp_2"}))
    update(desk, finished("call_1"))
    assert desk.sent() == ["conversation.item.create"]
    desk.reply_done("resp_2")
    assert desk.sent() == ["conversation.item.create", "response.create"]


def test_barge_in_cancels_running_calls_and_asks_no_reply() -> None:
    desk, box = tool_desk()
    model_calls(desk, "call_1")
    response_done(desk, "call_1")
    desk.receive(server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1"))
    assert box.cancelled == 1
    update(desk, finished("call_1", CallStatus.CANCELLED))
    assert desk.sent() == ["conversation.item.create"]  # the answer, but the floor is the user's
    [turn] = [c.turn for c in desk.of(TurnFinished) if c.turn.role is Role.TOOL]
    assert turn.tool is not None and turn.tool.state is ToolState.CANCELLED


def test_a_cancelled_response_gets_its_answers_but_no_reply() -> None:
    desk, _ = tool_desk()
    model_calls(desk, "call_1")
    desk.receive(
        server_event(
            "response.done", response={"id": "resp_1", "status": "cancelled", "output": []}
        )
    )
    update(desk, finished("call_1", CallStatus.CANCELLED))
    assert desk.sent() == ["conversation.item.create"]


def test_an_echoed_function_call_item_is_never_run() -> None:
    """conversation.item.done of a function_call (e.g. one replayed into a new connection)."""
    desk, box = tool_desk()
    desk.receive(server_event("conversation.item.done", previous_item_id=None, item=call_item("c")))
    assert box.calls == []


def test_approvals_open_and_close_and_the_turn_says_it_waits() -> None:
    desk, _ = tool_desk()
    model_calls(desk, "call_1")
    ask = Ask("call_1", "get_current_time", "{}", True, 130.0, "built-in")
    effects = update(desk, ApprovalNeeded(ask))
    assert ApprovalAsked(ask) in effects
    [turn] = [c.turn for c in desk.of(TurnStarted) if c.turn.role is Role.TOOL]
    assert turn.tool is not None and turn.tool.state is ToolState.WAITING
    assert turn.tool.origin == "built-in"
    assert update(desk, ApprovalSettled(Settled(ask, False, "timeout"))) == [
        ApprovalClosed("call_1", "timeout")
    ]
    assert desk.rooms.tools.answer("call_1", "yes") is True


def test_a_remote_approval_request_is_asked_and_answered_with_one_reply() -> None:
    desk, box = tool_desk()
    request = {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "deepwiki",
        "name": "ask_question",
        "arguments": '{"q": "x"}',
    }
    desk.receive(server_event("response.created", response={"id": "resp_1"}))
    desk.receive(
        server_event(
            "response.output_item.done", response_id="resp_1", output_index=0, item=request
        )
    )
    desk.receive(server_event("conversation.item.done", previous_item_id=None, item=request))
    assert box.remote == [("mcpr_1", "deepwiki", "ask_question", '{"q": "x"}')]
    desk.receive(
        server_event(
            "response.done", response={"id": "resp_1", "status": "completed", "output": [request]}
        )
    )
    answer = mcp_approval_response("mcpr_1", True)
    update(desk, McpApprovalAnswered("mcpr_1", True, answer))
    assert desk.sent() == ["conversation.item.create", "response.create"]
    for event in sent_events(desk):
        check_client_event(event)


def test_new_tools_go_out_in_a_session_update_and_a_new_connection_gets_them() -> None:
    desk, box = tool_desk()
    update(desk, ToolsChanged((CLOCK,)))
    [event] = sent_events(desk)
    assert event["type"] == "session.update"
    assert event["session"]["tools"] == [CLOCK] and event["session"]["tool_choice"] == "auto"
    check_client_event(event)
    update(desk, ToolsChanged(()))  # the last server went away: the list is cleared
    assert sent_events(desk)[-1]["session"]["tools"] == []
    restored = [e.event for e in desk.rooms.restore(desk.settings) if isinstance(e, Send)]
    assert restored[0]["session"]["tools"] == box.listed
    check_client_event(restored[0])


def test_a_finished_call_is_replayed_with_its_output_never_run_again() -> None:
    desk, box = tool_desk()
    model_calls(desk, "call_1")
    response_done(desk, "call_1")
    update(desk, finished("call_1"))
    [turn] = [c.turn for c in desk.of(TurnFinished) if c.turn.role is Role.TOOL]
    replayed = replay_events(turn)
    assert [event["item"]["type"] for event in replayed] == [
        "function_call",
        "function_call_output",
    ]
    assert replayed[1]["item"]["output"] == "output of call_1"
    for event in replayed:
        check_client_event(event)
    restored = [e.event for e in desk.rooms.restore(desk.settings) if isinstance(e, Send)]
    assert [e["item"]["type"] for e in restored[1:]] == ["function_call", "function_call_output"]
    assert box.calls == [("call_1", "get_current_time", "{}")]  # once, in the live session


def test_a_call_with_tools_off_is_still_answered() -> None:
    desk = Desk()  # no tool box: tools off, but a model may still call (a stale session)
    model_calls(desk, "call_1")
    response_done(desk, "call_1")
    assert desk.sent() == ["conversation.item.create", "response.create"]
    assert "turned off" in sent_events(desk)[0]["item"]["output"]


def test_a_dropped_connection_does_not_cut_off_a_running_local_call() -> None:
    desk, _ = tool_desk()
    model_calls(desk, "call_1")
    desk.act(desk.rooms.connection_lost("gone"))
    [turn] = [c.turn for c in desk.of(TurnStarted) if c.turn.role is Role.TOOL]
    assert not turn.final
    update(desk, finished("call_1"))  # answered on the next connection (restore replays)
    assert desk.sent() == ["conversation.item.create"]


def test_without_interrupt_response_speech_leaves_running_calls_alone() -> None:
    """`interrupt_response = false`: the user speaking is no barge-in, for the reply (the
    speech step) and for the tools alike: the call runs on and its answer gets its reply."""
    desk, box = Desk(session__turn_detection__interrupt_response=False), FakeBox()
    desk.rooms.tools.toolbox = box
    model_calls(desk, "call_1")
    response_done(desk, "call_1")
    update(desk, CallStarted("call_1", "get_current_time", "{}", "read-only"))
    desk.receive(server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1"))
    assert box.cancelled == 0
    assert [t.tool.call_id for t in desk.rooms.tools.running() if t.tool] == ["call_1"]
    update(desk, finished("call_1"))
    assert desk.sent() == ["conversation.item.create", "response.create"]
