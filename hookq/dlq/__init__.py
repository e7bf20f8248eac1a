"""Dead-letter operations (``hookq dlq``): browse, replay and purge, safe while workers run.

- ``records``: a dead message as an operator sees it, and selections over them;
- ``browse``: reading a queue without changing it (never acks, returns in place);
- ``move``: transactional removal (replay, purge), exactly-once across interruptions;
- ``replay`` / ``purge``: what replaces a removed message (a replayed copy, or nothing);
- ``report`` / ``render``: data for ``--json`` and rich tables; ``commands`` / ``cli``: the CLI.
"""
