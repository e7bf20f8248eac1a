"""The HTTP edge: authenticate, publish with confirm, then acknowledge."""
