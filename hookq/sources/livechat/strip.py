"""Removing one member from a JSON object's raw bytes, leaving every other byte as it was.

LiveChat's ``secret_key`` must not reach the broker, and the queued body must be the received
one without it, byte for byte: parsing and re-serialising turns integers of 2^64 and more into
floats, ``1e15`` into ``1000000000000000.0`` and ``1.5e-400`` into ``0.0``, so two different
events could share a body, a delivery id, and the second never run.

``without_member`` first tries the common case: the name written plainly, once, with a string
value. That member is cut where the bytes say, and the result parsed: it is the answer only if
the object lost exactly that top-level member (the name found may have been a nested key). Any
other body is scanned: the top-level object once (strings with their escapes, nesting by
brackets) to find each member named ``name`` (its key decoded, so ``"secret\\u005fkey"`` is
found too), cut out with one of its separating commas. The caller has parsed the body already:
it is valid JSON and a top-level object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import orjson

_WHITESPACE = b" \t\r\n"
# A JSON string (its escapes included), a bracket or a comma.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],]', re.DOTALL)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_QUOTE, _CLOSE_OBJECT = ord('"'), ord("}")
_OPENING, _CLOSING = b"{[", b"}]"


def without_member(body: bytes, name: str, parsed: Mapping[str, Any] | None = None) -> bytes:
    """``body`` (a valid JSON object) without its top-level members named ``name``: each is cut
    with the comma that separated it from its neighbour, and nothing else. ``parsed``: the body
    as the caller parsed it, if it did."""
    if parsed is None:
        parsed = _parsed(body)
    if parsed is not None:
        if name not in parsed:
            return body
        cut = _cut_plain_member(body, name)
        if cut is not None:
            return cut
    return _cut_every_member(body, name)


def _cut_every_member(body: bytes, name: str) -> bytes:
    members = _members(body)
    while True:
        found = next((n for n, (_s, _e, key) in enumerate(members) if key == name), None)
        if found is None:
            return body
        start, end, _name = members[found]
        if found + 1 < len(members):  # up to the next member: the comma and what follows it
            end = members[found + 1][0]
        elif found > 0:  # the last one: from the end of the previous member's value
            start = members[found - 1][1]
        body = body[:start] + body[end:]
        if sum(key == name for _s, _e, key in members) > 1:  # a duplicate: positions moved
            members = _members(body)
        else:
            return body


def _cut_plain_member(body: bytes, name: str) -> bytes | None:
    """``body`` without the member ``"name": "..."`` found first, if it was the only top-level
    member of that name; None for any other case (the scan decides those).

    About 7 us against 40 for the scan (the catalogue's bodies): a find, a string match and one
    parse of the result. The parse is the proof: the name found follows ``{`` or ``,`` and
    precedes ``:``, so it is a key at some depth; the top-level member is gone from the result
    only if that key was it (a nested one would leave it there), and then the bytes cut are
    those the scan would cut."""
    start = body.find(b'"' + name.encode() + b'"')
    if start < 0:
        return None
    before = _back_over_whitespace(body, start)
    colon = _over_whitespace(body, start + len(name) + 2)
    if before < 0 or body[before] not in b"{," or body[colon : colon + 1] != b":":
        return None
    value = _STRING.match(body, _over_whitespace(body, colon + 1))
    if value is None:
        return None
    after = _over_whitespace(body, value.end())
    following = body[after : after + 1]
    if following == b",":  # up to the next member's key
        cut = body[:start] + body[_over_whitespace(body, after + 1) :]
    elif following == b"}" and body[before] == ord(","):  # the last: from the previous value
        cut = body[: _back_over_whitespace(body, before) + 1] + body[value.end() :]
    elif following == b"}":  # the only member
        cut = body[:start] + body[value.end() :]
    else:
        return None
    left = _parsed(cut)
    return cut if left is not None and name not in left else None


def _parsed(body: bytes) -> Mapping[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:  # beyond orjson (an integer of 2^64): the scan decides
        return None
    return value if isinstance(value, dict) else None


def _over_whitespace(body: bytes, index: int) -> int:
    while index < len(body) and body[index] in _WHITESPACE:
        index += 1
    return index


def _back_over_whitespace(body: bytes, index: int) -> int:
    """The index of the last byte before ``index`` that is not whitespace (-1: none)."""
    index -= 1
    while index >= 0 and body[index] in _WHITESPACE:
        index -= 1
    return index


def _members(body: bytes) -> list[tuple[int, int, str]]:
    """(start, end, decoded key) of each top-level member: ``start`` at its key's quote,
    ``end`` just after its value, whitespace around the member excluded.

    One pass over the tokens that matter (strings, brackets, commas), found by a regular
    expression rather than byte by byte in Python: a byte loop cost about 100 us per LiveChat
    body, a third of the ingress's time per request. A value ends where the next top-level
    comma or the closing brace starts (numbers, true, false and null are not tokens)."""
    members: list[tuple[int, int, str]] = []
    depth = 0
    key_start, key = 0, None
    for token in _TOKEN.finditer(body):
        first = body[token.start()]
        if first == _QUOTE:
            if depth == 1 and key is None:
                key_start, key = token.start(), _key(token.group())
        elif first in _OPENING:
            depth += 1
        elif depth > 1:  # a nested closing bracket (commas inside values are theirs)
            depth -= 1 if first in _CLOSING else 0
        else:  # a top-level comma or the closing brace: the value before it ends
            if key is not None:
                members.append((key_start, _end_of_value(body, token.start()), key))
                key = None
            if first == _CLOSE_OBJECT:
                break
    return members


def _key(quoted: bytes) -> str:
    # Decoded only when escaped: json.loads for every key cost more than the scan itself.
    return json.loads(quoted) if b"\\" in quoted else quoted[1:-1].decode("utf-8", "replace")


def _end_of_value(body: bytes, separator: int) -> int:
    """Just after the value that ends before ``separator`` (whitespace before it excluded)."""
    while body[separator - 1] in _WHITESPACE:
        separator -= 1
    return separator
