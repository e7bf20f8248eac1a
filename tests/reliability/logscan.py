"""The log scan: no configured secret, LiveChat ``secret_key``, CPF, full email or phone number
in anything a process of the suite wrote."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.reliability.senders import FORBIDDEN


def leaks_in(text: str, forbidden: Mapping[str, str] = FORBIDDEN) -> list[str]:
    """The labels of the forbidden values that ``text`` contains (JSON-escaped forms too)."""
    return [
        label
        for label, value in forbidden.items()
        if value in text or value.replace("+", "\\u002b") in text
    ]


def scan_files(
    paths: Iterable[Path], forbidden: Mapping[str, str] = FORBIDDEN
) -> dict[str, list[str]]:
    """``{file: leaked labels}`` for every file that leaks; empty when all are clean."""
    leaks: dict[str, list[str]] = {}
    for path in paths:
        if path.exists() and (found := leaks_in(path.read_text(errors="replace"), forbidden)):
            leaks[str(path)] = found
    return leaks


def describe(leaks: Mapping[str, list[str]]) -> str:
    # Labels, never the values: a failing test's report is a log too.
    return "; ".join(f"{path}: {', '.join(labels)}" for path, labels in leaks.items())
