"""StaryaAI's settings. StaryaAI publishes no authentication scheme, so hookq defines what its
sender is configured with (hookq/sources/starya/webhook.py):

- ``HOOKQ_STARYA_SECRETS``: the bearer tokens, or the HMAC keys;
- ``HOOKQ_STARYA_SIGNATURE_HEADER``: the header carrying the HMAC (``X-Starya-Signature``);
- ``HOOKQ_STARYA_TIMESTAMP_HEADER``: a header carrying the sending time (Unix seconds), signed
  with the body: requests outside the replay window are refused;
- ``HOOKQ_STARYA_ID_HEADER``: a header carrying a delivery id, signed with the body: dedupe
  trusts it only on a request whose HMAC covers it (a bearer request dedupes on its body).
"""

from __future__ import annotations

from hookq.sources.base import SourceSettings


class StaryaSettings(SourceSettings):
    model_config = SourceSettings.config_for("starya")
    personal_fields = frozenset({"name", "email", "birthDate", "cpf", "phone"})

    signature_header: str = "X-Starya-Signature"
    timestamp_header: str | None = None
    id_header: str | None = None
