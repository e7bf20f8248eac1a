"""``hookq db``: the PostgreSQL schema of the transactional inbox (``hookq.inbox``)."""
