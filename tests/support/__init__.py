"""Helpers shared by test packages: publishing events as the ingress does, recording handlers,
and running ``hookq worker`` processes (``tests.support.workers``)."""
