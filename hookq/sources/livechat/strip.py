"""Removing one member from a JSON object's raw bytes, leaving every other byte as it was.

LiveChat's ``secret_key`` must not reach the broker, and the queued body must be the received
one without it, byte for byte: parsing and re-serialising turns integers of 2^64 and more into
floats, ``1e15`` into ``1000000000000000.0`` and ``1.5e-400`` into ``0.0``, so two different
events could share a body, a delivery id, and the second never run.

``without_member`` scans the top-level object once (strings with their escapes, nesting by
brackets) to find each member named ``name`` (its key decoded, so ``"secret\\u005fkey"`` is
found too), and cuts it out with one of its separating commas. The caller has parsed the body
already: it is valid JSON and a top-level object.
"""

from __future__ import annotations

import json

_WHITESPACE = b" \t\r\n"


def without_member(body: bytes, name: str) -> bytes:
    """``body`` (a valid JSON object) without its top-level members named ``name``: each is cut
    with the comma that separated it from its neighbour, and nothing else."""
    while True:
        members = _members(body)
        found = next((n for n, (_s, _e, key) in enumerate(members) if key == name), None)
        if found is None:
            return body
        start, end, _key = members[found]
        if found + 1 < len(members):  # up to the next member: the comma and what follows it
            end = members[found + 1][0]
        elif found > 0:  # the last one: from the end of the previous member's value
            start = members[found - 1][1]
        body = body[:start] + body[end:]


def _members(body: bytes) -> list[tuple[int, int, str]]:
    """(start, end, decoded key) of each top-level member: ``start`` at its key's quote,
    ``end`` just after its value, whitespace around the member excluded."""
    members: list[tuple[int, int, str]] = []
    i = body.index(b"{") + 1
    length = len(body)
    while i < length:
        i = _skip_space(body, i)
        if body[i] == ord("}"):
            break
        if body[i] == ord(","):
            i += 1
            continue
        key_start = i
        key_end = _string_end(body, i)
        key = json.loads(body[key_start:key_end])
        i = _skip_space(body, key_end)
        i = _skip_space(body, i + 1)  # past the colon
        value_end = _value_end(body, i)
        members.append((key_start, value_end, key))
        i = value_end
    return members


def _skip_space(body: bytes, i: int) -> int:
    while body[i] in _WHITESPACE:
        i += 1
    return i


def _string_end(body: bytes, i: int) -> int:
    """Just past the string that opens at ``i``."""
    i += 1
    while True:
        char = body[i]
        if char == ord("\\"):
            i += 2
        elif char == ord('"'):
            return i + 1
        else:
            i += 1


def _value_end(body: bytes, i: int) -> int:
    """Just past the value that starts at ``i``."""
    char = body[i]
    if char == ord('"'):
        return _string_end(body, i)
    if char in b"{[":
        depth = 0
        while True:
            char = body[i]
            if char == ord('"'):
                i = _string_end(body, i)
                continue
            if char in b"{[":
                depth += 1
            elif char in b"}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
    while i < len(body) and body[i] not in b",}" and body[i] not in _WHITESPACE:
        i += 1  # a number, true, false or null
    return i
