"""The gateway's services: what the routers call, without HTTP concerns."""
