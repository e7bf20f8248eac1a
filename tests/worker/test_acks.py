"""The acks the worker packs itself are the frames pamqp marshals (the broker takes them in every
integration test: a frame it could not read would close the channel)."""

from __future__ import annotations

from aiormq import spec
from aiormq.abc import ChannelFrame
from hypothesis import given
from hypothesis import strategies as st

from hookq.worker.acks import ack_frames


@given(
    st.integers(0, 65535),
    st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=40),
)
def test_acks_are_packed_as_pamqp_marshals_them(channel: int, tags: list[int]) -> None:
    theirs = ChannelFrame.marshall(channel, [spec.Basic.Ack(delivery_tag=tag) for tag in tags])
    assert ack_frames(channel, tags) == theirs.payload
