"""What a tool call ended as: its status, the text for the model (cut to the limit, with a
note saying how much was cut) and the one-line summary for the log.

Every call gets an output, whatever happened: the model waits for a `function_call_output`
that never comes otherwise. The wording tells the model what to do next (retry with other
arguments, not retry a declined call, say that the result is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tui.tools.text import Redactor, one_line, printable, size_text


class CallStatus(StrEnum):
    OK = "ok"
    ERROR = "error"  # the tool ran and reported an error
    FAILED = "failed"  # it could not run or finish: server down, crashed mid-call
    INVALID = "invalid"  # unknown tool, arguments not JSON or not matching the schema
    DECLINED = "declined"  # the user (or a `never` setting, or no answer in time) said no
    CANCELLED = "cancelled"  # interrupted (barge-in) before it finished
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class ToolResult:
    """A finished call before it is cut and masked: `text` is everything the tool said."""

    status: CallStatus
    text: str

    @classmethod
    def ok(cls, text: str) -> ToolResult:
        return cls(CallStatus.OK, text)

    @classmethod
    def error(cls, text: str) -> ToolResult:
        return cls(CallStatus.ERROR, f"The tool reported an error: {text}")

    @classmethod
    def failed(cls, why: str) -> ToolResult:
        return cls(CallStatus.FAILED, f"The call failed: {why}. Its result is unknown.")

    @classmethod
    def invalid(cls, why: str) -> ToolResult:
        return cls(CallStatus.INVALID, f"{why} Nothing was run.")

    @classmethod
    def declined(cls, why: str) -> ToolResult:
        return cls(
            CallStatus.DECLINED,
            f"{why} The call was not run; do not retry it unless the user asks.",
        )

    @classmethod
    def cancelled(cls) -> ToolResult:
        return cls(
            CallStatus.CANCELLED,
            "The call was cancelled because the user interrupted; it was stopped before it "
            "finished and its result is unknown.",
        )

    @classmethod
    def timed_out(cls, seconds: float) -> ToolResult:
        return cls(
            CallStatus.TIMED_OUT,
            f"The call did not finish within {seconds:g} s and was abandoned; its result is "
            "unknown.",
        )


def cut_for_model(text: str, limit_bytes: int) -> str:
    """`text` within `limit_bytes` of UTF-8, ending with a note of what was cut if it was."""
    data = text.encode("utf-8")
    if len(data) <= limit_bytes:
        return text
    note = f"\n[cut: the result was {size_text(len(data))}; only the first {{shown}} are shown]"
    budget = max(0, limit_bytes - len(note.encode("utf-8")) - 16)
    kept = data[:budget].decode("utf-8", errors="ignore")
    return kept + note.format(shown=size_text(len(kept.encode("utf-8"))))


@dataclass(frozen=True)
class Rendered:
    """A result as it leaves the tools package: for the model, for the log, for a detail view."""

    status: CallStatus
    output: str  # the function_call_output text: masked, cut to the limit
    summary: str  # one printable line for the log
    full_text: str  # masked, printable, uncut


def render(result: ToolResult, *, tool: str, limit_bytes: int, redactor: Redactor) -> Rendered:
    masked = redactor.text(result.text)
    size = len(masked.encode("utf-8"))
    label = {CallStatus.OK: "", CallStatus.TIMED_OUT: "timed out: "}.get(
        result.status, f"{result.status}: "
    )
    first = next((line for line in masked.splitlines() if line.strip()), "(empty)")
    summary = f"{tool} → {label}{one_line(first, 80)}"
    if size > 120:
        summary += f" ({size_text(size)})"
    return Rendered(
        status=result.status,
        output=cut_for_model(masked, limit_bytes),
        summary=summary,
        full_text=printable(masked),
    )
