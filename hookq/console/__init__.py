"""The operators' web console (``hookq console``): triage and replay in a browser.

Server-rendered pages (Jinja2, autoescaped) and the same views as JSON under ``/api/``, for
operators who log in with a token of ``HOOKQ_CONSOLE_TOKENS``. Every action calls what the CLI
calls (``hookq.dlq.operations``, ``hookq.events``): the console has no replay or purge of its
own. Modules, one concept each: ``access`` (tokens and who they are), ``sessions`` (signed
cookies, CSRF), ``auth`` (who may see what), ``rendering`` (templates, text made safe),
``issues`` (dead letters grouped), ``actions`` (replay and purge, logged with who),
``sampler``/``broker_stats``/``ingress_stats``/``plot`` (the overview's numbers and curves),
``views/`` (pages and API), ``app`` (routes), ``server`` (the process).
"""
