"""What happens on each server event: the one table, and the session's steps it names.

Every event is first logged for the inspector (when it is open); then the steps of its
route run in order. A step is either a handler of the pure conversation model
(`Conversation.on_*`: turns start, grow, finish) or one of the session's `Step`s. A reply's
deltas pass a guard first (REPLY_TEXT, REPLY_AUDIO): a delta of a reply the user cut off
goes no further, and a delta for an item the conversation does not know is a bad frame. A
type with no route is only logged. A bad frame (`BadEvent`) goes to the bad-frame throttle.

A session step returns effects for the controller, or `Halt` when the event goes no
further; `EventRouter.route` yields them step by step, so the controller has carried out one
step (changes emitted, a finished reply through the history gate) before the next one runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from tui.audio.playback import PlaybackFullError
from tui.changes import Change, Notice
from tui.config import Settings
from tui.conversation import Conversation
from tui.errors import RtTuiError
from tui.realtime.events import BadEvent, ServerEvent
from tui.session.applied import SessionCheck
from tui.session.audio_link import AudioLink
from tui.session.effects import Effect, Proven, WakeTicker
from tui.session.handover import SessionLimit
from tui.session.inspector import InspectorLog
from tui.session.latency import LatencyMark
from tui.session.ledger import Ledger
from tui.session.throttle import BadFrameThrottle
from tui.session.tools_link import ToolsLink
from tui.session.turns import TurnTaking
from tui.session.typed import TypedTurns
from tui.session.voice import VoiceLock


class Step(StrEnum):
    """The session's side of an event (each is the `EventRouter` method of its name)."""

    REPLY_TEXT = "reply_text"  # guard; the first output of an item (latency), proves the link
    REPLY_AUDIO = "reply_audio"  # the same guard and marks; the voice is now fixed
    PLAY = "play"  # to the speaker (an unplayable delta is a bad frame); wakes the ticker
    SPEECH_STARTED = "speech_started"  # a new user turn: usage from zero, barge in
    SPEECH_STOPPED = "speech_stopped"  # the user's turn ended: latency is timed from here
    RESPONSE_CREATED = "response_created"  # the reply now running (what barge-in cancels)
    TIMED_ITEM = "timed_item"  # the first item after the user's turn is the one timed
    RESPONSE_DONE = "response_done"  # no reply runs; completed proves the link; its usage
    TRANSCRIPTION_USAGE = "transcription_usage"  # what transcribing the user cost
    RATE_LIMITS = "rate_limits"  # figures for the status line
    SERVER_ERROR = "server_error"  # a notice, unless benign
    TYPED_ECHO = "typed_echo"  # the server confirms a typed turn: no longer pending
    SESSION_EXPIRY = "session_expiry"  # session.created's expires_at: when to hand over
    # the tools link (tui.session.tools_link): function calls, remote MCP, approvals
    TOOL_ITEM_ADDED = "tool_item_added"  # a function_call / mcp_call item: its log line
    TOOL_ARGUMENTS_DELTA = "tool_arguments_delta"
    TOOL_ARGUMENTS_DONE = "tool_arguments_done"  # the call is complete: the tool box runs it
    TOOL_ITEM_DONE = "tool_item_done"  # the same from the item, if the .done was missed
    TOOL_CONVERSATION_ITEM = "tool_conversation_item"  # mcp_approval_request, mcp_list_tools
    TOOL_RESPONSE_DONE = "tool_response_done"  # calls in the output; the one follow-up reply
    MCP_CALL = "mcp_call"  # response.mcp_call.in_progress / completed / failed
    MCP_ARGUMENTS = "mcp_arguments"
    MCP_LIST_TOOLS = "mcp_list_tools"
    TOOLS_BARGE_IN = "tools_barge_in"  # running calls cancelled, no follow-up (if it interrupts)
    # what the server applied (tui.session.applied): shown, checked against what was asked
    SESSION_CREATED = "session_created"  # its defaults: only whether its audio can be played
    SESSION_UPDATED = "session_updated"  # the header, a notice per difference, the audio gate
    SESSION_REFUSED = "session_refused"  # an error naming a session.update: no answer to it


ModelHandler = Callable[[Conversation, ServerEvent], list[Change]]
Route = tuple[Step | ModelHandler, ...]

C, S = Conversation, Step
ROUTES: dict[str, Route] = {
    "conversation.item.added": (S.TYPED_ECHO, C.on_item_added),
    "conversation.item.created": (S.TYPED_ECHO, C.on_item_added),
    "conversation.item.done": (S.TYPED_ECHO, C.on_item_done, S.TOOL_CONVERSATION_ITEM),
    "conversation.item.truncated": (C.on_truncated,),
    "conversation.item.input_audio_transcription.delta": (C.on_transcription_delta,),
    "conversation.item.input_audio_transcription.completed": (
        C.on_transcription_completed,
        S.TRANSCRIPTION_USAGE,
    ),
    "conversation.item.input_audio_transcription.failed": (C.on_transcription_failed,),
    "input_audio_buffer.speech_started": (S.SPEECH_STARTED, S.TOOLS_BARGE_IN),
    "input_audio_buffer.speech_stopped": (S.SPEECH_STOPPED,),
    "response.created": (S.RESPONSE_CREATED,),
    "response.output_item.added": (C.on_output_item_added, S.TIMED_ITEM, S.TOOL_ITEM_ADDED),
    "response.output_item.done": (S.TOOL_ITEM_DONE,),
    "response.function_call_arguments.delta": (S.TOOL_ARGUMENTS_DELTA,),
    "response.function_call_arguments.done": (S.TOOL_ARGUMENTS_DONE,),
    "response.mcp_call_arguments.delta": (S.MCP_ARGUMENTS,),
    "response.mcp_call_arguments.done": (S.MCP_ARGUMENTS,),
    "response.mcp_call.in_progress": (S.MCP_CALL,),
    "response.mcp_call.completed": (S.MCP_CALL,),
    "response.mcp_call.failed": (S.MCP_CALL,),
    "mcp_list_tools.in_progress": (S.MCP_LIST_TOOLS,),
    "mcp_list_tools.completed": (S.MCP_LIST_TOOLS,),
    "mcp_list_tools.failed": (S.MCP_LIST_TOOLS,),
    "response.output_text.delta": (S.REPLY_TEXT, C.on_text_delta),
    "response.output_audio_transcript.delta": (S.REPLY_TEXT, C.on_text_delta),
    "response.output_text.done": (C.on_text_done,),
    "response.output_audio_transcript.done": (C.on_text_done,),
    "response.output_audio.delta": (S.REPLY_AUDIO, C.on_audio_delta, S.PLAY),
    "response.done": (C.on_response_done, S.RESPONSE_DONE, S.TOOL_RESPONSE_DONE),
    "rate_limits.updated": (S.RATE_LIMITS,),
    "session.created": (S.SESSION_EXPIRY, S.SESSION_CREATED),
    "session.updated": (S.SESSION_UPDATED,),
    "error": (S.SESSION_REFUSED, S.SERVER_ERROR),
}
del C, S


def model_changes(conversation: Conversation, event: ServerEvent) -> list[Change]:
    """The conversation model's part of an event's route alone (replaying a recorded
    sequence into a bare `Conversation`, as the unit tests do)."""
    changes: list[Change] = []
    for step in ROUTES.get(event.type, ()):
        if not isinstance(step, Step):
            changes += step(conversation, event)
    return changes


BENIGN_ERROR_CODES = {"response_cancel_not_active"}


@dataclass(frozen=True)
class Halt:
    """The event goes no further; these effects still happen."""

    effects: list[Effect] = field(default_factory=list)


StepResult = list[Effect] | Halt


class EventRouter:
    """Runs each server event's route against the session's rooms."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        turns: TurnTaking,
        ledger: Ledger,
        throttle: BadFrameThrottle,
        link: AudioLink,
        latency: LatencyMark,
        voice: VoiceLock,
        inspector: InspectorLog,
        typed: TypedTurns,
        settings: Callable[[], Settings],
        clock: Callable[[], float],
        tools: ToolsLink,
        limit: SessionLimit,
        check: SessionCheck,
    ) -> None:
        self._check = check
        self._typed = typed
        self._conversation = conversation
        self._tools = tools
        self._turns = turns
        self._ledger = ledger
        self._throttle = throttle
        self._link = link
        self._latency = latency
        self._voice = voice
        self._inspector = inspector
        self._settings = settings
        self._clock = clock
        self._limit = limit
        # each step is the method of its name (a missing one fails here, at construction)
        self._steps: dict[Step, Callable[[ServerEvent], StepResult]] = {
            step: getattr(self, f"_{step.value}") for step in Step
        }

    def route(self, event: ServerEvent | BadEvent, *, inspect: bool) -> Iterator[list[Effect]]:
        if isinstance(event, BadEvent):
            yield self._throttle.admit(event, self._clock())
            return
        if inspect:
            yield [self._inspector.inbound(event.data)]
        for step in ROUTES.get(event.type, ()):
            if not isinstance(step, Step):
                yield list(step(self._conversation, event))
                continue
            result = self._steps[step](event)
            if isinstance(result, Halt):
                yield result.effects
                return
            yield result

    # ---- the steps -----------------------------------------------------------------

    def _reply_text(self, event: ServerEvent) -> StepResult:
        return self._reply_delta(event, "text")

    def _reply_audio(self, event: ServerEvent) -> StepResult:
        result = self._reply_delta(event, "audio")
        if not isinstance(result, Halt):
            self._voice.spoke = True
        return result

    def _reply_delta(self, event: ServerEvent, what: str) -> StepResult:
        if self._turns.discarded(event):
            return Halt()
        item_id = event.get("item_id", "")
        if self._conversation.get(item_id) is None:
            reason = f"{what} for unknown item {item_id!r}"
            return Halt(self._bad(BadEvent("unknown_item", reason, type=event.type)))
        self._latency.output_arrived(item_id, self._clock())
        return [Proven()]  # the server is answering on this connection

    def _play(self, event: ServerEvent) -> StepResult:
        effects: list[Effect] = [WakeTicker()]
        # audio in a format the client did not ask for is never fed to the PCM16 playback:
        # the reply is shown as text (the check says why, once)
        if not self._check.plays:
            return [*effects, *self._check.held_back()]
        if self._link.plays:
            try:
                self._link.play(event.get("item_id", ""), event.audio or b"")
            except PlaybackFullError as error:  # once per overflow: a broken server's flood
                effects.append(Notice("warning", f"Audio dropped: {error}"))
            except (ValueError, RtTuiError) as error:
                effects += self._bad(BadEvent("bad_audio", str(error), type=event.type))
        return effects

    def _speech_started(self, event: ServerEvent) -> StepResult:
        self._ledger.start_turn()
        speaking: list[Effect] = [*self._turns.set_user_speaking(True)]
        if not self._speech_interrupts():
            return speaking  # asked not to: the reply plays on while the user speaks
        return [*speaking, *self._turns.barge_in(client_initiated=False)]

    def _speech_stopped(self, event: ServerEvent) -> StepResult:
        effects: list[Effect] = list(self._turns.set_user_speaking(False))
        self._latency.turn_ended(self._clock())
        return effects

    def _response_created(self, event: ServerEvent) -> StepResult:
        response = event.get("response") or {}
        self._turns.active_response = response.get("id")
        return []

    def _timed_item(self, event: ServerEvent) -> StepResult:
        item = event.get("item") or {}
        self._latency.item_added(item.get("id"))
        return []

    def _response_done(self, event: ServerEvent) -> StepResult:
        response = event.get("response") or {}
        if response.get("id") == self._turns.active_response:
            self._turns.active_response = None
        effects: list[Effect] = [Proven()] if response.get("status") == "completed" else []
        usage = response.get("usage")
        if isinstance(usage, dict):
            settings = self._settings()
            cap = settings.session.spend_cap_usd
            effects += self._ledger.add_response(usage, model=settings.connection.model, cap=cap)
        return effects

    def _transcription_usage(self, event: ServerEvent) -> StepResult:
        usage = event.get("usage")
        if not isinstance(usage, dict):
            return []
        session = self._settings().session
        model, cap = session.transcription_model, session.spend_cap_usd
        return self._ledger.add_transcription(usage, model=model, cap=cap)

    def _rate_limits(self, event: ServerEvent) -> StepResult:
        return self._ledger.rate_limits(event.get("rate_limits"))

    def _server_error(self, event: ServerEvent) -> StepResult:
        error = event.get("error") or {}
        code = error.get("code")
        if code in BENIGN_ERROR_CODES:
            return []
        message = error.get("message") or "unknown error"
        return [Notice("error", f"Server error: {message}" + (f" ({code})" if code else ""))]

    def _session_expiry(self, event: ServerEvent) -> StepResult:
        self._limit.announced(event.data["session"].get("expires_at"))
        return []

    def _typed_echo(self, event: ServerEvent) -> StepResult:
        return self._typed.confirmed(event)

    def _tool_item_added(self, event: ServerEvent) -> StepResult:
        return self._tools.on_output_item_added(event)

    def _tool_arguments_delta(self, event: ServerEvent) -> StepResult:
        return self._tools.on_arguments_delta(event)

    def _tool_arguments_done(self, event: ServerEvent) -> StepResult:
        return self._tools.on_arguments_done(event)

    def _tool_item_done(self, event: ServerEvent) -> StepResult:
        return self._tools.on_output_item_done(event)

    def _tool_conversation_item(self, event: ServerEvent) -> StepResult:
        return self._tools.on_item_done(event)

    def _tool_response_done(self, event: ServerEvent) -> StepResult:
        return self._tools.on_response_done(event)

    def _mcp_call(self, event: ServerEvent) -> StepResult:
        return self._tools.remote.on_call_progress(event)

    def _mcp_arguments(self, event: ServerEvent) -> StepResult:
        return self._tools.remote.on_arguments(event)

    def _mcp_list_tools(self, event: ServerEvent) -> StepResult:
        return self._tools.remote.on_list_tools(event)

    def _tools_barge_in(self, event: ServerEvent) -> StepResult:
        if not self._speech_interrupts():
            return []  # as for the reply: speaking is no barge-in, the calls run on
        return self._tools.barge_in()

    def _session_created(self, event: ServerEvent) -> StepResult:
        return self._check.created(event)

    def _session_updated(self, event: ServerEvent) -> StepResult:
        return self._check.updated(event, self._settings())

    def _session_refused(self, event: ServerEvent) -> StepResult:
        return self._check.refused(event)

    def _speech_interrupts(self) -> bool:
        """`interrupt_response`: does the user's speech take the floor (both barge-in steps)."""
        return self._settings().session.turn_detection.interrupt_response

    def _bad(self, bad: BadEvent) -> list[Effect]:
        return self._throttle.admit(bad, self._clock())
