"""The worker: consume, validate, dedupe, dispatch to handlers, retry, dead-letter."""
