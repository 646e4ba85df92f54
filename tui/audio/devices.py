"""Listing sound devices and turning a user's device spec (index or name) into an index.

Specs come from settings and flags: "" means the system default, a number is a PortAudio
index, anything else is a case-insensitive name substring (an exact name wins, so "rt_mic"
picks `rt_mic` over `rt_mic_feed`). Errors list the candidates so the person can fix the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from tui.audio import backend
from tui.errors import AudioUnavailableError, DeviceNotFoundError
from tui.printable import one_line

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels


def _require_backend(sd: ModuleType | None) -> ModuleType:
    module = sd if sd is not None else backend.load()
    if module is None:
        raise AudioUnavailableError(backend.UNAVAILABLE_MESSAGE)
    return module


def _default_indices(sd: ModuleType) -> tuple[int, int]:
    """The default input and output indices, -1 where there is none."""
    found = []
    for kind in ("input", "output"):
        try:
            found.append(int(sd.query_devices(kind=kind)["index"]))
        except Exception:  # PortAudioError "Error querying device -1": no default of that kind
            found.append(-1)
    return found[0], found[1]


def list_devices(sd: ModuleType | None = None) -> list[DeviceInfo]:
    """Every device PortAudio knows, with the system defaults marked.

    Raises AudioUnavailableError when PortAudio itself cannot be loaded.
    """
    module = _require_backend(sd)
    hostapis = [api["name"] for api in module.query_hostapis()]
    default_in, default_out = _default_indices(module)
    devices = []
    for raw in module.query_devices():
        index = int(raw["index"])
        hostapi_index = int(raw["hostapi"])
        devices.append(
            DeviceInfo(
                index=index,
                name=str(raw["name"]),
                hostapi=hostapis[hostapi_index] if hostapi_index < len(hostapis) else "?",
                max_input_channels=int(raw["max_input_channels"]),
                max_output_channels=int(raw["max_output_channels"]),
                default_samplerate=float(raw["default_samplerate"]),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def format_table(devices: list[DeviceInfo]) -> str:
    """The `rt-tui devices` listing: one line per device, defaults marked."""
    if not devices:
        return "No sound devices found (is a sound server running?)."
    header = ("", "index", "name", "host API", "in", "out", "default rate")
    rows = [header]
    for dev in devices:
        marks = ("<" if dev.is_default_input else " ") + (">" if dev.is_default_output else " ")
        rows.append(
            (
                marks,
                str(dev.index),
                # names come from drivers and USB descriptors: data, never terminal control
                one_line(dev.name),
                one_line(dev.hostapi),
                str(dev.max_input_channels),
                str(dev.max_output_channels),
                f"{dev.default_samplerate:g} Hz",
            )
        )
    widths = [max(len(row[col]) for row in rows) for col in range(len(header))]
    right_aligned = {1, 4, 5}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if col in right_aligned else cell.ljust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("< default input   > default output")
    return "\n".join(lines)


def resolve(
    spec: str | int | None, kind: Kind, devices: list[DeviceInfo] | None = None
) -> int | None:
    """The device index for `spec`, or None for the system default.

    "" / None -> None; an int or digit string -> that index (it must exist and have
    channels of `kind`); otherwise a case-insensitive name substring among devices of
    `kind`, where an exact name wins. Zero or several matches raise DeviceNotFoundError
    listing the candidates.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    pool = devices if devices is not None else list_devices()
    of_kind = [dev for dev in pool if dev.channels(kind) > 0]
    candidates = [f"{dev.index}: {dev.name}" for dev in of_kind]
    listing = "; ".join(candidates) if candidates else f"no {kind} devices at all"

    text = str(spec).strip()
    if isinstance(spec, int) or text.isdigit():
        index = int(text)
        for dev in pool:
            if dev.index == index:
                if dev.channels(kind) > 0:
                    return index
                raise DeviceNotFoundError(
                    f"Device {index} ({dev.name}) has no {kind} channels. "
                    f"{kind.capitalize()} devices: {listing}",
                    candidates=candidates,
                )
        raise DeviceNotFoundError(
            f"No {kind} device with index {index}. {kind.capitalize()} devices: {listing}",
            candidates=candidates,
        )

    wanted = text.casefold()
    exact = [dev for dev in of_kind if dev.name.casefold() == wanted]
    if len(exact) == 1:
        return exact[0].index
    matches = exact or [dev for dev in of_kind if wanted in dev.name.casefold()]
    if len(matches) == 1:
        return matches[0].index
    if not matches:
        raise DeviceNotFoundError(
            f"No {kind} device matches {text!r}. {kind.capitalize()} devices: {listing}",
            candidates=candidates,
        )
    names = [f"{dev.index}: {dev.name}" for dev in matches]
    raise DeviceNotFoundError(
        f"{text!r} matches several {kind} devices: {'; '.join(names)}. "
        "Give more of the name or the index.",
        candidates=names,
    )
