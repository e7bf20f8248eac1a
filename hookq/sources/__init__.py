"""The webhook providers hookq receives, one package each (see ``sources.registry``)."""
