"""A delivered message as the worker reads it, taken from aiormq without aio-pika's wrapper.

aio-pika wraps every delivery in an ``IncomingMessage`` (its constructor copies fourteen
properties through a checking ``__setattr__``: about 20 us per message, measured with timeit)
and runs the consumer's callback in a second task. The worker reads six of those properties, so
its consumers (``hookq.worker.consumers``) take deliveries from the AMQP channel itself as
``Received``. ``Message`` is what the pipeline, the settler and the acks read: a ``Received``,
or an ``IncomingMessage`` while aio-pika's own callback serves (``Consumer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from aiormq.abc import AbstractChannel, DeliveredMessage


class Message(Protocol):
    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, Any]: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def timestamp(self) -> datetime | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def content_encoding(self) -> str | None: ...
    @property
    def delivery_tag(self) -> int | None: ...
    @property
    def channel(self) -> AbstractChannel: ...


class Received:
    """One delivery's body and the properties the worker reads."""

    __slots__ = (
        "body",
        "channel",
        "content_encoding",
        "content_type",
        "delivery_tag",
        "headers",
        "message_id",
        "timestamp",
    )

    def __init__(self, delivered: DeliveredMessage) -> None:
        properties = delivered.header.properties
        self.body: bytes = delivered.body
        self.headers: Mapping[str, Any] = properties.headers or {}
        self.message_id: str | None = properties.message_id
        self.timestamp: datetime | None = properties.timestamp
        self.content_type: str | None = properties.content_type
        self.content_encoding: str | None = properties.content_encoding
        self.delivery_tag: int | None = delivered.delivery_tag
        self.channel: AbstractChannel = delivered.channel
