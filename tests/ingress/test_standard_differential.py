"""Standard Webhooks: hookq accepts and refuses exactly what the reference library does.

The reference is the ``standardwebhooks`` package (``Webhook.verify``), run beside
``StandardSource.accept`` on a generated corpus of header variants: timestamps written in every
way ``float`` reads (or does not), signed over the header's text or over the whole seconds the
reference signs; signature lists with the valid one anywhere, other versions, malformed
entries, odd padding and separators; ids with white space or non-ASCII text. Authentication is
the question: the body is a valid event, so any refusal of hookq's is one of authentication.
"""

from __future__ import annotations

import base64
import time

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from standardwebhooks.webhooks import Webhook

from hookq.sources.base import WebhookRejected
from hookq.sources.standard import StandardSource
from hookq.sources.standard.config import StandardSettings
from hookq.sources.standard.webhook import signed_time
from tests.conftest import STANDARD_SECRET
from tests.reliability.senders import standard_key, standard_signature

BODY = orjson.dumps({"type": "invoice.paid", "data": {"n": 1}})
SOURCE = StandardSource(StandardSettings(secrets=[STANDARD_SECRET]))
REFERENCE = Webhook(STANDARD_SECRET)

# Seconds from now: well inside the 300 s window, or well outside (never near its edge, where
# the two clocks read a moment apart could disagree).
OFFSETS = st.sampled_from([0, -1, 1, -150, 150, -290, 290, -320, 320, -86_400, 10**6])
# Digits that ``float`` reads as 0-9: Arabic-Indic, fullwidth, Devanagari (each from its zero).
DIGITS = {
    name: "".join(chr(zero + n) for n in range(10))
    for name, zero in (("arabic-indic", 0x660), ("fullwidth", 0xFF10), ("devanagari", 0x966))
}
SPACES = ["\t", " ", "\u00a0", "\u2003", "\u3000", "\n", "\x0b"]


@st.composite
def stamps(draw: st.DrawFn) -> str:
    """A webhook-timestamp near now, written one of the ways a sender might."""
    seconds = int(time.time()) + draw(OFFSETS)
    text = str(seconds)
    form = draw(
        st.sampled_from(
            [
                "plain",
                "plus",
                "underscore",
                "zeros",
                "digits",
                "space",
                "fraction",
                "exponent",
                "junk",
            ]
        )
    )
    if form == "plus":
        text = "+" + text
    elif form == "underscore":
        at = draw(st.integers(1, len(text) - 1))
        text = text[:at] + "_" + text[at:]
    elif form == "zeros":
        text = "0" * draw(st.integers(1, 3)) + text
    elif form == "digits":
        table = DIGITS[draw(st.sampled_from(sorted(DIGITS)))]
        text = "".join(table[int(c)] for c in text)
    elif form == "space":
        text = draw(st.sampled_from(SPACES)) + text + draw(st.sampled_from(["", *SPACES]))
    elif form == "fraction":
        text += draw(st.sampled_from([".0", ".5", ".999999", ".9999999", "."]))
    elif form == "exponent":
        text = f"{seconds / 1e9}e9"
    elif form == "junk":
        text = draw(
            st.sampled_from(
                [
                    "",
                    "nan",
                    "inf",
                    "-inf",
                    "9" * 309,
                    "0x10",
                    "1e999",
                    "12 34",
                    "\u0661\u0662",
                    "-0",
                    "\u066b",
                ]
            )
        )
    return text


def sign(webhook_id: str, stamp: str) -> str:
    """A v1 signature of the body, over ``stamp`` as given."""
    try:
        return standard_signature(webhook_id, stamp, BODY, standard_key())
    except UnicodeEncodeError:
        return "v1," + base64.b64encode(b"\0" * 32).decode()


@st.composite
def signature_headers(draw: st.DrawFn, valid: str) -> str:
    """A webhook-signature list with ``valid`` (or a variant of it) among other entries."""
    version, _, sig = valid.partition(",")
    bent = draw(
        st.sampled_from(
            [sig, sig + "=", sig + "==", sig.rstrip("="), sig + "!", "-" + sig, sig + "\u00e9"]
        )
    )
    wrong = "v1," + base64.b64encode(b"w" * 32).decode()
    others = draw(
        st.lists(
            st.sampled_from(
                [wrong, "v2,abc", "v1a,xyz", "v1", "", "v1,a,b", "v1,!!!", "v1,YQ", "x"]
            ),
            max_size=3,
        )
    )
    entries = [*others]
    entries.insert(draw(st.integers(0, len(others))), f"{version},{bent}")
    separator = draw(st.sampled_from([" ", " ", " ", "  ", "\t"]))
    return separator.join(entries)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, str]:
    webhook_id = draw(
        st.sampled_from(["msg_1", "msg_\u00e9", "\u00a0msg_2", "msg 3", "msg\udcff", "m"])
    )
    stamp = draw(stamps())
    # The text signed: the header's own, or the whole seconds the reference signs.
    try:
        normal = signed_time(stamp)[1]
    except WebhookRejected:
        normal = stamp
    signed = draw(st.sampled_from([stamp, normal]))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": draw(signature_headers(sign(webhook_id, signed))),
    }


def reference_accepts(headers: dict[str, str]) -> bool:
    try:
        REFERENCE.verify(BODY, headers, json_parse=False)
    except Exception:  # the reference raises more than its own error on malformed headers
        return False
    return True


def hookq_accepts(headers: dict[str, str]) -> bool:
    try:
        SOURCE.accept(CIMultiDict(headers), BODY, time.time())
    except WebhookRejected:
        return False
    return True


def valid_headers(stamp: str | None = None, signed: str | None = None) -> dict[str, str]:
    stamp = stamp if stamp is not None else str(int(time.time()))
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": sign("msg_1", signed if signed is not None else stamp),
    }


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(requests())
@example(valid_headers())
def test_hookq_accepts_exactly_what_the_reference_accepts(headers: dict[str, str]) -> None:
    assert hookq_accepts(headers) == reference_accepts(headers), headers


def test_the_corpus_has_both_verdicts_for_each_quirk() -> None:
    """The differential means something only if the corpus reaches the quirks: a few of them,
    by hand, with the reference's verdict."""
    now = str(int(time.time()))
    cases = {
        # The reference signs the whole seconds, whatever the header says.
        "plus, signed normalised": (valid_headers("+" + now, now), True),
        "plus, signed as sent": (valid_headers("+" + now), False),
        "underscore, signed as sent": (valid_headers(now[:3] + "_" + now[3:]), False),
        "leading zeros, signed as sent": (valid_headers("00" + now), False),
        "tab before, signed normalised": (valid_headers("\t" + now, now), True),
        "309 digits": (valid_headers("9" * 309), False),
    }
    extra_padding = valid_headers()
    extra_padding["webhook-signature"] += "="
    cases["signature with an extra '='"] = (extra_padding, True)
    for name, (headers, verdict) in cases.items():
        assert reference_accepts(headers) is verdict, f"reference changed: {name}"
        assert hookq_accepts(headers) is verdict, name


@pytest.mark.parametrize("position", [0, 1, 2])
def test_the_valid_signature_anywhere_in_the_list_is_accepted(position: int) -> None:
    headers = valid_headers()
    wrong = [
        "v1," + base64.b64encode(b"a" * 32).decode(),
        "v1," + base64.b64encode(b"b" * 32).decode(),
    ]
    wrong.insert(position, headers["webhook-signature"])
    headers["webhook-signature"] = " ".join(wrong)
    assert hookq_accepts(headers)
    assert reference_accepts(headers)
