"""Reading a webhook's JSON body: what JavaScript's ``JSON.parse`` (the providers' own SDKs)
reads, no more.

orjson reads almost every body, fast. It refuses two kinds of valid JSON text that senders do
send: a lone surrogate escape (``"\\ud83d"``, a truncated emoji) and nesting deeper than 1,024
levels. For those two refusals only, the standard library's parser reads the body again,
made as strict as orjson elsewhere (numbers through orjson, no NaN or Infinity), with room for
``MAX_JSON_DEPTH`` levels. The same applies in the worker: pydantic's JSON parser refuses both
(lone surrogates; 200 levels), and ``Source.parse`` validates what this module reads.

``MAX_JSON_DEPTH``: Plain's SDK parses any depth, but a sender can only send what it can write,
and Node.js's ``JSON.stringify`` writes at most 4,174 levels (default stack); 10,000 covers it
with room. Deeper bodies are refused (orjson's 1,024 levels are within it).
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import orjson

MAX_JSON_DEPTH = 10_000
# Frames already on the stack when a body is parsed (the ingress's or the worker's callers).
STACK_ROOM = 1_000
# The orjson refusals that are valid JSON text (its messages, as of orjson 3.x).
_RETRY_ON = ("surrogate", "depth limit exceeded")


class JSONBodyError(ValueError):
    """The body is not JSON text (or is nested deeper than ``MAX_JSON_DEPTH``)."""


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# Numbers are read by orjson (huge integers become floats, 1e400 is refused, as orjson does).
_STRICT = json.JSONDecoder(
    parse_int=orjson.loads, parse_float=orjson.loads, parse_constant=_no_constant
)


def loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if not any(reason in str(exc) for reason in _RETRY_ON):
            raise JSONBodyError(str(exc)) from None
    return _loads_with_the_standard_library(body)


def _loads_with_the_standard_library(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")  # as orjson: UTF-8 only, never guessed from the bytes
    except UnicodeDecodeError as exc:
        raise JSONBodyError(f"not UTF-8: {exc.reason}") from None
    limit = sys.getrecursionlimit()
    # The C parser counts a level as a recursion; one event loop thread runs this at a time.
    sys.setrecursionlimit(max(limit, MAX_JSON_DEPTH + STACK_ROOM))
    try:
        value = _STRICT.decode(text)
    except RecursionError:
        value = TOO_DEEP
    except ValueError as exc:
        raise JSONBodyError(str(exc)) from None
    finally:
        sys.setrecursionlimit(limit)
    # The limit above depends on the caller's stack: the depth is checked exactly, so that the
    # ingress and the worker agree on what is too deep.
    if value is TOO_DEEP or nesting(value) > MAX_JSON_DEPTH:
        raise JSONBodyError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


TOO_DEEP = object()


def nesting(value: Any) -> int:
    """How many arrays and objects deep ``value`` goes (``[[1]]``: 2), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in item)
    return deepest
