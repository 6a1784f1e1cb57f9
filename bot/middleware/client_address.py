"""The address a request comes from, honouring ``X-Forwarded-For`` from trusted proxies only.

A proxy appends the address it received the request from to ``X-Forwarded-For``, so the
header reads ``client, proxy1, proxy2`` and only its right end is written by proxies the
gateway trusts. :func:`client_address` starts at the connection's peer: while that address is
a trusted proxy, it steps one entry left in the header; the first address that is not a
trusted proxy is the client. A client cannot choose its address by sending the header
itself: without a trusted peer the header is ignored, and entries left of the first untrusted
one are never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"
"""The address of a request whose peer is not known (an in-process test client)."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse addresses and CIDR blocks (``10.0.0.0/8``, ``::1``); ValueError names a bad one."""
    networks: list[IPNetwork] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(
                f"{text!r} is not an IP address or network (like 10.0.0.0/8 or 127.0.0.1)"
            ) from None
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    value = text.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` entries the gateway believes."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str]) -> TrustedProxies:
        """Build from settings' strings (addresses or CIDR blocks)."""
        return cls(parse_networks(values))

    def trusts(self, address: IPAddress) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        return any(address.version == net.version and address in net for net in self.networks)

    def client_address(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """Return the client's address for a connection from ``peer`` with these headers.

        ``forwarded_for`` holds every ``X-Forwarded-For`` header value, in order.
        """
        if not peer:
            return UNKNOWN
        current = _address(peer)
        if current is None:
            return peer
        if not self.networks or not self.trusts(current):
            return str(current)
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:  # a trusted proxy wrote something unreadable: stop at it
                return str(current)
            current = address
            if not self.trusts(current):
                return str(current)
        return str(current)
