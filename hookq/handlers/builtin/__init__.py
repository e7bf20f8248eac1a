"""Handlers shipped with hookq. Each is enabled by its name in ``HOOKQ_BUILTIN_HANDLERS``
(default ``event-log``; an empty value enables none).

A built-in is an ordinary handler module: ``handlers.registry`` imports the modules listed here
and collects their ``@handler`` functions exactly as it does a team's.
"""

MODULES = ("hookq.handlers.builtin.event_log",)
