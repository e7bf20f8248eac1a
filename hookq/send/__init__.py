"""``hookq send``: a signed webhook to a running ingress, from the catalogue or a file."""
