"""Sessions and CSRF tokens, carried by signed cookies (no server-side store).

A session cookie holds the operator's index, a fingerprint of their token (``access``) and a
random nonce, signed with the console's key and stamped with the time it was issued
(``itsdangerous``): changed, it no longer verifies; older than ``HOOKQ_CONSOLE_SESSION_TTL``, it
is refused. The key is ``HOOKQ_CONSOLE_SECRET``, or a random one per process when that is empty
(every session then ends when the console restarts, and two console processes behind one
address do not accept each other's cookies).

Each session has its CSRF token: an HMAC of its nonce under the key, put in every form and
checked on every state-changing request. A page of another site can make the browser send the
cookie (it cannot here: SameSite=Strict) but cannot read the token. The login form has one too,
from a short-lived cookie of its own: nobody can log a browser in as someone else.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from hookq.console.access import Operator, Operators

SESSION_COOKIE = "hookq_console"
LOGIN_COOKIE = "hookq_console_login"
FLASH_COOKIE = "hookq_console_flash"
LOGIN_TTL = 3600  # seconds a login form stays valid
FLASH_TTL = 120


@dataclass(frozen=True, slots=True)
class Session:
    operator: Operator
    nonce: str


class Sessions:
    def __init__(self, key: bytes, ttl: float, operators: Operators) -> None:
        self._key = key
        self.ttl = ttl
        self._operators = operators
        self._sessions = URLSafeTimedSerializer(key, salt="hookq-console-session")
        self._logins = URLSafeTimedSerializer(key, salt="hookq-console-login")
        self._flashes = URLSafeTimedSerializer(key, salt="hookq-console-flash")

    @classmethod
    def with_secret(cls, secret: str, ttl: float, operators: Operators) -> Sessions:
        key = secret.encode() if secret else secrets.token_bytes(32)
        return cls(key, ttl, operators)

    def issue(self, operator: Operator) -> tuple[Session, str]:
        """A new session for ``operator`` and its cookie value."""
        session = Session(operator, secrets.token_urlsafe(16))
        fingerprint = self._operators.fingerprint(operator, self._key)
        value = self._sessions.dumps([operator.index, fingerprint, session.nonce])
        return session, value

    def read(self, value: str | None) -> Session | None:
        """The session of a cookie: None if missing, altered, expired or of a token no longer
        configured."""
        if not value:
            return None
        try:
            index, fingerprint, nonce = self._sessions.loads(value, max_age=math.ceil(self.ttl))
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(index, int) or not isinstance(nonce, str):
            return None
        operator = self._operators.by_index(index)
        if operator is None or not isinstance(fingerprint, str):
            return None
        expected = self._operators.fingerprint(operator, self._key)
        if not hmac.compare_digest(fingerprint.encode(), expected.encode()):
            return None
        return Session(operator, nonce)

    def csrf(self, nonce: str, purpose: str = "session") -> str:
        return hmac.new(self._key, f"csrf:{purpose}:{nonce}".encode(), "sha256").hexdigest()

    def csrf_ok(self, nonce: str, presented: str | None, purpose: str = "session") -> bool:
        if not presented:
            return False
        expected = self.csrf(nonce, purpose)
        return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode())

    def login_form(self, cookie: str | None) -> tuple[str, str]:
        """(cookie value, form token) of a login form. A browser's valid login cookie is kept:
        a second form (another tab, or a redirected favicon request) must not invalidate the
        first."""
        nonce = self.login_nonce(cookie)
        if nonce is None:
            nonce = secrets.token_urlsafe(16)
            cookie = self._logins.dumps(nonce)
        assert cookie is not None
        return cookie, self.csrf(nonce, "login")

    def login_nonce(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            nonce = self._logins.loads(value, max_age=LOGIN_TTL)
        except BadSignature:
            return None
        return nonce if isinstance(nonce, str) else None

    def flash(self, text: str) -> str:
        return self._flashes.dumps(text)

    def read_flash(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            text = self._flashes.loads(value, max_age=FLASH_TTL)
        except BadSignature:
            return None
        return text if isinstance(text, str) else None
