"""The console's pages and their JSON twins under ``/api/``: one module per page."""
