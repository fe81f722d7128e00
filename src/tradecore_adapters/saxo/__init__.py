"""The Saxo Bank OpenAPI broker adapter."""
