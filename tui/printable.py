"""Text from outside made inert for a terminal: `printable(text)`.

Transcripts, error messages, close reasons, device names, config values and history files
are data. Drawn as they come, their control characters would drive the terminal: set the
window title (OSC 0), clear the screen and paint a fake prompt (CSI), set the clipboard
(OSC 52), plant a disguised link (OSC 8), or reorder what is shown (bidi overrides).

What `printable` does, and why:
- An escape sequence (CSI, OSC up to BEL or ST, DCS/SOS/PM/APC strings, the two-character
  escapes), introduced by ESC or by its 8-bit C1 form, becomes one "␛" (U+241B). The
  payload goes with it (a clipboard blob or a link target is noise), but the mark stays, so
  the reader sees that the text held terminal controls.
- Any other C0 control becomes its Unicode control picture (BEL -> ␇), DEL becomes ␡ and
  the remaining C1 controls become ␛. Pictures rather than `\\x1b`-style escapes: one cell
  each, so widths and wrapping stay right, and they cannot be mistaken for text that spells
  an escape out (an assistant explaining ANSI codes writes a literal "\\x1b[31m").
- Tab becomes spaces (its width would depend on where the terminal's cursor happens to be).
- Bidi embeddings, overrides, isolates and marks are removed: a terminal that applies them
  shows "‮gnp.exe" as "exe.png"; without them the text reads in its stored order.
- CR LF, lone CR, NEL (U+0085) and the Unicode line and paragraph separators are newlines
  when `newlines` is true (multi-line views); a one-line view shows each line break as "↵".
- A lone surrogate (from a JSON "\\ud800") becomes U+FFFD: it cannot be encoded for output.

Everything else (emoji with ZWJ, CJK, accents, Rich/Textual markup brackets) is untouched.
Clean text, by far the common case, costs one C-level regex scan and is returned as is.

Core module: stdlib only (the UI, history and the CLI all use it).
"""

from __future__ import annotations

import re

ESCAPE_MARK = "\u241b"  # ␛ SYMBOL FOR ESCAPE
LINE_BREAK_MARK = "\u21b5"  # ↵ shown for a line break where a view has one line
TAB = "    "

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE_BREAKS = "\r\x85\u2028\u2029"  # besides "\n"
# Everything the slow path changes. "\n" is checked separately: multi-line views keep it.
_UNSAFE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_UNSAFE_OR_NEWLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")

# ECMA-48 sequences. 8-bit C1 introducers (U+009B CSI, U+009D OSC, U+0090 DCS, U+0098 SOS,
# U+009E PM, U+009F APC) count as ESC plus a letter: some terminals obey them too. A string
# ends at BEL, ST, CAN/SUB (which abort it), the next ESC, or a newline (so a stray OSC
# cannot swallow the rest of a message); the whole sequence is dropped whatever it is, so
# no ESC can survive even where a terminal would have parsed differently.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI: params, intermediates, final
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])"  # OSC, DCS, SOS, PM, APC ...
    r"[^\x07\x18\x1a\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # ... their string and its end
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # two-character escapes (with intermediates), lone ESC
)
_HAS_SEQUENCE = re.compile(r"[\x1b\x90\x98\x9b\x9d\x9e\x9f]")


def _table(line_break: str) -> dict[int, str | None]:
    table: dict[int, str | None] = {code: chr(0x2400 + code) for code in range(0x20)}
    table[0x7F] = "\u2421"  # ␡ SYMBOL FOR DELETE
    table.update({code: ESCAPE_MARK for code in range(0x80, 0xA0)})
    table.update({ord(char): None for char in _BIDI})
    table.update({code: "\ufffd" for code in range(0xD800, 0xE000)})
    table[ord("\t")] = TAB
    for char in _LINE_BREAKS:
        table[ord(char)] = line_break
    if line_break == "\n":
        del table[ord("\n")]
    else:
        table[ord("\n")] = line_break
    return table


_MULTI_LINE = _table("\n")
_ONE_LINE = _table(LINE_BREAK_MARK)


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` with nothing a terminal would obey: see the module docstring for the rules.

    newlines: keep line breaks (as "\\n"); False shows each as "↵" for one-line views.
    """
    if (_UNSAFE if newlines else _UNSAFE_OR_NEWLINE).search(text) is None:
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if _HAS_SEQUENCE.search(text) is not None:
        text = _SEQUENCE.sub(ESCAPE_MARK, text)
    return text.translate(_MULTI_LINE if newlines else _ONE_LINE)


def one_line(text: str, limit: int | None = None) -> str:
    """`printable(text, newlines=False)`: for headers, status items, table cells and error
    messages. `limit` cuts a long text (a close reason, an HTTP body) to that many
    characters first, ending it with "…"."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return printable(text, newlines=False)
