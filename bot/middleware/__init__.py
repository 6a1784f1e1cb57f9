"""ASGI middleware of the gateway: the client's address, rate limits and back-pressure."""
