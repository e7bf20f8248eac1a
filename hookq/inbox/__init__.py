"""The transactional inbox: exactly-once effects for handlers that write to PostgreSQL.

A transactional handler (``@handler(..., transactional=True)``) runs inside a PostgreSQL
transaction that first inserts the event's inbox row; what the handler writes through
``ctx.db`` commits with that row, or not at all. ``claims`` (the claim a worker's pipeline and
settler use), ``store`` (a worker's pool, gate and pruning), ``migrations`` and ``schema`` (the
tables, per namespace), ``connection`` (settings, outages). ``hookq db migrate`` creates the
tables. Imported only where a transactional handler runs or ``hookq db`` is used.
"""
