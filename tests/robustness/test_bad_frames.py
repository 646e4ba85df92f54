"""Property: whatever frames the server slips into a reply, the session carries on.

One server and one session serve every example of a test function (a live conversation on a
loop in a helper thread, since hypothesis drives examples synchronously): per example, the
frames are set as `extra_frames` of the next response, a typed turn must get its reply, and
a clean turn after it must get its reply too.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.session.helpers import ChangeRecorder
from tests.session.test_session import TEST_KEY, settings_for
from tui.changes import ConnectionState, Role, TurnStatus
from tui.localserver import LocalServer
from tui.realtime.events import SERVER_EVENT_TYPES
from tui.session import Session

EXAMPLE_TIMEOUT_S = 20.0

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
base64_text = st.binary(max_size=300).map(lambda raw: base64.b64encode(raw).decode())
event_shaped = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(SERVER_EVENT_TYPES)) | st.text(max_size=30)},
    optional={
        "event_id": st.text(max_size=12),
        "response_id": st.text(max_size=12) | json_values,
        "item_id": st.text(max_size=12) | json_values,
        "output_index": st.integers() | json_values,
        "content_index": st.integers() | json_values,
        "delta": base64_text | st.text(max_size=40) | json_values,
        "transcript": st.text(max_size=40) | json_values,
        "text": st.text(max_size=40),
        "audio_end_ms": st.integers(),
        "item": json_values,
        "response": json_values,
        "error": json_values,
        "session": json_values,
        "part": json_values,
        "usage": json_values,
    },
)
text_frames = (
    json_values.map(json.dumps) | event_shaped.map(json.dumps) | base64_text | st.text(max_size=200)
)
frames = st.lists(text_frames | st.binary(max_size=200), min_size=1, max_size=6)


def _plainly_bad(frame: str | bytes) -> bool:
    """A frame no parser may accept: binary, or text that is not a JSON object."""
    if isinstance(frame, bytes):
        return True
    try:
        return not isinstance(json.loads(frame), dict)
    except ValueError:
        return True


class LiveConversation:
    """A LocalServer and a real Session running on their own loop in a helper thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop_errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server = LocalServer(realtime_factor=40)
        self.recorder = ChangeRecorder()
        self.session: Session | None = None
        self.task: asyncio.Task[None] | None = None
        self.run(self._start())

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(EXAMPLE_TIMEOUT_S * 2)

    async def _start(self) -> None:
        await self.server.start()
        self.session = Session(
            settings_for(self.server.url),
            api_key=TEST_KEY,
            listener=self.recorder,
            audio_enabled=False,
        )
        self.task = asyncio.create_task(self.session.run())
        await self.recorder.wait_for(
            lambda: self.session.state is ConnectionState.LIVE, what="live"
        )

    async def turn(self, text: str, extra: list[str | bytes]) -> None:
        """Say `text` with `extra` frames slipped into the reply; await the complete reply."""
        assert self.session is not None and self.task is not None
        self.server.faults.extra_frames = extra
        try:
            await self.recorder.wait_for(
                lambda: self.session.state is ConnectionState.LIVE, what="live before the turn"
            )
            self.session.send_text(text)
            await self.recorder.wait_for(
                lambda: self.task.done() or _replied(self.session, text),
                timeout=EXAMPLE_TIMEOUT_S,
                what=f"the reply to {text!r}",
            )
        finally:
            self.server.faults.extra_frames = []
        assert not self.task.done(), "the session ended"

    async def _stop(self) -> None:
        assert self.session is not None and self.task is not None
        await self.session.stop()
        await asyncio.wait_for(self.task, 10)
        await self.server.stop()

    def close(self) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


def _replied(session: Session, said: str) -> bool:
    return any(
        t.role is Role.ASSISTANT and t.status is TurnStatus.DONE and said in t.text
        for t in session.conversation.turns
    )


@pytest.fixture(scope="module")
def conversation() -> Iterator[LiveConversation]:
    live = LiveConversation()
    try:
        yield live
    finally:
        live.close()
    # a handler raising inside a callback lands here rather than failing an example
    assert [c for c in live.loop_errors if "exception" in c] == []


counter = iter(range(1_000_000))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(extra=frames)
def test_random_frames_never_break_the_conversation(
    conversation: LiveConversation, extra: list[str | bytes]
) -> None:
    session = conversation.session
    assert session is not None
    number = next(counter)
    bad_before = sum(session.bad_frames.values())
    sent_before = sum(len(record.raw_sent) for record in conversation.server.sessions)
    conversation.run(conversation.turn(f"example {number} under fire", extra))
    counted = sum(session.bad_frames.values()) - bad_before
    sent = sum(len(record.raw_sent) for record in conversation.server.sessions) - sent_before
    assert sent == len(extra), "every frame went out on the wire"
    assert counted >= sum(1 for frame in extra if _plainly_bad(frame))
    # and the conversation stays usable for the next, clean turn
    conversation.run(conversation.turn(f"example {number} all clear", []))
    assert session.state is ConnectionState.LIVE
    assert [c for c in conversation.loop_errors if "exception" in c] == []
