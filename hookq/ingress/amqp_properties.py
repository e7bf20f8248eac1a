"""The AMQP properties of a published event, encoded for the hot path.

pamqp encodes a header table through a generic, type-dispatching encoder: for the dozen headers
an event carries, that was the largest single cost of an ingress request (bench/, profiles in
docs/benchmarks.md). ``Properties`` encodes its ``headers`` with ``field_table`` below: the
same bytes as pamqp for strings and nested tables, with two deliberate differences:

- a Python ``float`` is written as a double (``d``), not as pamqp's 32-bit ``f``, which near
  2026 is precise only to about two minutes (``hookq-received-at`` was off by up to a minute);
  every AMQP decoder reads ``d`` back as the same float;
- anything else (ints, bools, bytes, lists, ...) goes to pamqp's own encoder, unchanged.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Mapping

import aiormq
from pamqp import encode as pamqp_encode
from pamqp.common import FieldTable, FieldValue

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_DOUBLE = struct.Struct(">d")
MAX_KEY_BYTES = 128  # pamqp truncates longer keys (with a warning): leave those to it


def field_table(table: Mapping[str, FieldValue]) -> bytes:
    """An AMQP field table, keys sorted as pamqp sorts them."""
    parts: list[bytes] = []
    for key in sorted(table):
        raw_key = key.encode()
        if len(raw_key) > MAX_KEY_BYTES:
            return pamqp_encode.field_table(dict(table))
        parts += (_U8.pack(len(raw_key)), raw_key)
        _append_value(parts, table[key])
    body = b"".join(parts)
    return _U32.pack(len(body)) + body


def _append_value(parts: list[bytes], value: FieldValue) -> None:
    kind = type(value)
    if kind is str:
        raw = value.encode()  # type: ignore[union-attr]
        parts += (b"S", _U32.pack(len(raw)), raw)
    elif kind is float:
        parts += (b"d", _DOUBLE.pack(value))
    elif kind is dict:
        parts += (b"F", field_table(value))  # type: ignore[arg-type]
    else:
        parts.append(pamqp_encode.encode_table_value(value))


class Properties(aiormq.spec.Basic.Properties):
    """``Basic.Properties`` whose header table is encoded by ``field_table``, and which encodes
    the four properties an event carries (content type, headers, delivery mode, message id)
    without pamqp's generic loop over all fourteen."""

    def encode_property(self, name: str, value: FieldValue) -> bytes:
        if name == "headers" and type(value) is dict:
            table: FieldTable = value
            return field_table(table)
        return super().encode_property(name, value)

    def marshal(self) -> bytes:
        content_type, headers = self.content_type, self.headers
        mode, message_id = self.delivery_mode, self.message_id
        if not (
            content_type
            and message_id
            and type(headers) is dict
            and type(mode) is int
            and _others(self) == _OTHERS_UNSET
        ):
            return super().marshal()
        raw_type, raw_id = content_type.encode(), message_id.encode()
        if len(raw_type) > 255 or len(raw_id) > 255:
            return super().marshal()
        return b"".join(
            (
                _U16.pack(_EVENT_FLAGS),
                _U8.pack(len(raw_type)),
                raw_type,
                field_table(headers),
                _U8.pack(mode),
                _U8.pack(len(raw_id)),
                raw_id,
            )
        )


_BASIC = aiormq.spec.Basic.Properties
_EVENT_PROPERTIES = ("content_type", "headers", "delivery_mode", "message_id")
_OTHER_PROPERTIES = tuple(name for name in _BASIC.__slots__ if name not in _EVENT_PROPERTIES)
_others = operator.attrgetter(*_OTHER_PROPERTIES)
# What ``Basic.Properties()`` holds for the properties an event does not set.
_OTHERS_UNSET = _others(_BASIC())
# One 16-bit flag word: the properties present, in pamqp's (the spec's) order.
_EVENT_FLAGS = sum(_BASIC.flags[name] for name in _EVENT_PROPERTIES)
