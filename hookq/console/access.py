"""Who may use the console: the tokens of ``HOOKQ_CONSOLE_TOKENS``, each an operator.

A token is compared with every configured token, in constant time, whichever matches (or none):
how long a login takes says nothing about which token it was, or how much of one was right.
Both sides are hashed first, so the comparisons are between equal lengths and the length of a
token is not measured either (``hmac.compare_digest`` is constant-time only for equal lengths).
An operator is named by ``HOOKQ_CONSOLE_TOKEN_NAMES`` (same order), else ``token N``: logs say
who did what by that name, never by the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from hookq.settings import Settings, SettingsError, env_name

INSECURE = "anonymous (insecure console)"


@dataclass(frozen=True, slots=True)
class Operator:
    index: int  # position of its token in HOOKQ_CONSOLE_TOKENS; -1: the insecure console
    name: str


ANONYMOUS = Operator(-1, INSECURE)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def compare_digest(a: bytes, b: bytes) -> bool:
    """The one comparison of a presented token with a configured one (tests count the calls)."""
    return hmac.compare_digest(a, b)


class Operators:
    def __init__(self, tokens: Sequence[str], names: Sequence[str] = ()) -> None:
        self._digests = [_digest(token) for token in tokens]
        self._names = [names[i] if i < len(names) else f"token {i + 1}" for i in range(len(tokens))]

    @classmethod
    def from_settings(cls, settings: Settings) -> Operators:
        return cls(settings.console_tokens, settings.console_token_names)

    @property
    def insecure(self) -> bool:
        """No token configured: only started with HOOKQ_CONSOLE_INSECURE (``require``)."""
        return not self._digests

    def identify(self, token: str) -> Operator | None:
        """The operator whose token this is, or None. Every token is compared, always."""
        presented = _digest(token)
        found: Operator | None = None
        for index, digest in enumerate(self._digests):
            if compare_digest(presented, digest) and found is None:
                found = Operator(index, self._names[index])
        return found

    def by_index(self, index: int) -> Operator | None:
        if self.insecure:
            return ANONYMOUS if index == ANONYMOUS.index else None
        if 0 <= index < len(self._names):
            return Operator(index, self._names[index])
        return None

    def fingerprint(self, operator: Operator, key: bytes) -> str:
        """Binds a session to its token: a token removed from the settings ends its sessions
        (at the next start), and a session cannot be moved to another operator."""
        digest = self._digests[operator.index] if operator.index >= 0 else b"insecure"
        return hmac.new(key, b"operator:" + digest, "sha256").hexdigest()


def require(settings: Settings) -> None:
    """Fail closed: a console without a token refuses to start, unless marked insecure."""
    if not settings.console_tokens and not settings.console_insecure:
        raise SettingsError(
            f"{env_name('console_tokens')} not set: the console needs at least one operator "
            f"token (or {env_name('console_insecure')}=true, for local use only)"
        )
