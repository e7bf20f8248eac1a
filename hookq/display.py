"""Text that an operator's terminal shows as it is written, never as instructions.

Everything the operators' tools show comes from outside: providers' payloads, handlers'
exceptions and tracebacks, names someone typed. A terminal acts on some characters: ESC starts
a sequence that clears the screen, retitles the window or hides a hyperlink (CSI, OSC); C1
controls (U+0080-U+009F) do the same on terminals that honour them; CR and backspace overwrite
what was printed; bidi controls (U+202E...) reorder what follows; zero-width characters make two
different ids look alike. ``safe`` replaces each such character with a visible escape in
Python's notation (``\\x1b``, ``\\r``, ``\\u202e``), so an operator sees that it is there and what
it is. ``json_text`` does the same for JSON output (as JSON's own ``\\uXXXX`` escapes, so that it
stays JSON that decodes to the same value).

Rich markup (``[bold red]``, ``[link=...]``) is another matter: whoever prints with rich passes
``rich.text.Text`` built from ``safe(...)``, never a markup string made of data.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import IO, Any

import orjson

# Control (Cc: C0, DEL, C1), format (Cf: bidi controls, zero-width characters, BOM, tags),
# lone surrogates (Cs: not even printable as UTF-8), and the line and paragraph separators
# (Zl, Zp: new lines on some terminals). Everything else, accents and emoji included, is shown.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e]")
_NOT_ASCII_OR_DEL = re.compile(r"[^\x00-\x7e]")  # orjson already escapes C0 in JSON strings
_READABLE = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Off a terminal nothing is wrapped: a line is as wide as its content (grep and copy whole ids).
PIPE_WIDTH = 100_000


@functools.lru_cache(maxsize=4096)
def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _visible(char: str) -> str:
    if char in _READABLE:
        return _READABLE[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(text: str, *, lines: bool = False) -> str:
    """``text`` with every character a terminal would act on made visible.

    ``lines=True`` keeps new lines and tabs (a traceback, a pretty-printed body); otherwise they
    are escaped too, so that one value stays on one line (a table cell, a title, a note)."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if (lines and char in "\n\t") or not _unsafe(char):
            return char
        return _visible(char)

    return _NOT_PLAIN_ASCII.sub(replace, text)


def json_text(value: Any, *, indent: bool = True) -> str:
    """``value`` as JSON in which no character a terminal acts on appears raw.

    orjson escapes C0 controls (JSON requires it) but writes C1, bidi and the other characters
    ``safe`` escapes as they are; here they become ``\\uXXXX`` escapes: still JSON, same value."""
    try:
        text = orjson.dumps(
            value, option=orjson.OPT_INDENT_2 if indent else 0, default=str
        ).decode()
    except orjson.JSONEncodeError:
        # A lone surrogate (orjson refuses them): the standard library escapes everything.
        return json.dumps(value, indent=2 if indent else None, ensure_ascii=True, default=str)

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        return _json_escape(char) if _unsafe(char) else char

    return _NOT_ASCII_OR_DEL.sub(replace, text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def output_width(stream: IO[str]) -> int | None:
    """The width to lay tables out in: the terminal's own, or unlimited when piped."""
    return None if stream.isatty() else PIPE_WIDTH
