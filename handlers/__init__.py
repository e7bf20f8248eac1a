"""The handler plugin API and the built-in handlers."""
