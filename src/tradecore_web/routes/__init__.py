"""The route handlers, one module a concern (pages and their JSON API side by side)."""
