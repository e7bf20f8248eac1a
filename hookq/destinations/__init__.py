"""HTTP destinations: each one a handler that forwards its events, signed the Standard Webhooks
way, to a URL declared in ``HOOKQ_DESTINATIONS_FILE`` (``hookq.destinations.config``)."""
