"""Which addresses outbound requests may go to: public ones, IPv4 hidden inside IPv6 included.

An IPv6 address can carry an IPv4 address, and a host or a translator on the way then talks to
that IPv4 address: ``64:ff9b::a9fe:a9fe`` (NAT64) reaches 169.254.169.254, the cloud metadata
service, although ``ipaddress`` calls the IPv6 address global. :func:`embedded_ipv4` finds every
IPv4 address an IPv6 address may stand for, and :func:`is_public` checks them all:

* pure representations of an IPv4 address, where only the IPv4 address counts:
  IPv4-mapped ``::ffff:0:0/96``, IPv4-translated ``::ffff:0:0:0/96`` (RFC 2765) and the
  deprecated IPv4-compatible ``::/96`` (``::127.0.0.1``);
* IPv6 addresses that lead to an IPv4 address, where both must be public: NAT64's well-known
  prefix ``64:ff9b::/96`` (RFC 6052) and its local-use ``64:ff9b:1::/48`` (RFC 8215, whose
  operator may place the IPv4 address by any RFC 6052 prefix length: every placement is
  checked), 6to4 ``2002::/16``, Teredo ``2001::/32`` (server and de-obfuscated client) and
  ISATAP interface identifiers (``…:0:5efe:a.b.c.d``).

A network-specific NAT64 prefix (any prefix an operator picks) cannot be recognised from the
address; such a network's resolver is then the operator's to trust.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

_REPRESENTATIONS = (
    IPv6Network("::ffff:0:0/96"),  # IPv4-mapped
    IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (RFC 2765)
    IPv6Network("::/96"),  # IPv4-compatible (deprecated); :: and ::1 map to 0.0.0.0 and 0.0.0.1
)
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_TEREDO = IPv6Network("2001::/32")
_SIXTOFOUR = IPv6Network("2002::/16")
_ISATAP_IDS = (b"\x00\x00\x5e\xfe", b"\x02\x00\x5e\xfe")
_RFC6052_SPANS = {  # prefix length -> the byte slices holding the IPv4 address (byte 8 is "u")
    48: ((6, 8), (9, 11)),
    56: ((7, 8), (9, 12)),
    64: ((9, 13),),
    96: ((12, 16),),
}


def _v4(raw: bytes, spans: tuple[tuple[int, int], ...]) -> IPv4Address:
    return IPv4Address(b"".join(raw[start:end] for start, end in spans))


def represented_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address that ``ip`` merely writes in IPv6 form (mapped, translated, compatible)."""
    if any(ip in network for network in _REPRESENTATIONS):
        return IPv4Address(ip.packed[12:])
    return None


def embedded_ipv4(ip: IPv6Address) -> tuple[IPv4Address, ...]:
    """Every IPv4 address that ``ip`` carries or leads to (see the module docstring)."""
    represented = represented_ipv4(ip)
    if represented is not None:
        return (represented,)
    raw = ip.packed
    found: list[IPv4Address] = []
    if ip in _NAT64_WELL_KNOWN:
        found.append(_v4(raw, _RFC6052_SPANS[96]))
    elif ip in _NAT64_LOCAL:
        found.extend(_v4(raw, spans) for spans in _RFC6052_SPANS.values())
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip in _TEREDO and ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client); ipaddress undoes the client's obfuscation
    if raw[8:12] in _ISATAP_IDS:
        found.append(IPv4Address(raw[12:]))
    return tuple(found)


def _global(ip: IPv4Address | IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP literal, IPv6 possibly with a ``%zone``) and every IPv4
    address it embeds are public: not loopback, private, link-local, CGNAT, multicast,
    reserved or unspecified."""
    ip = ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv4Address):
        return _global(ip)
    represented = represented_ipv4(ip)
    if represented is not None:
        return _global(represented)
    if ip in _SIXTOFOUR:
        # decided by the IPv4 address it leads to, not by ``ipaddress``, whose table of special
        # ranges changed within 3.11: Debian 12's 3.11.2 calls 2002::/16 private, 3.11.7 global
        return all(_global(v4) for v4 in embedded_ipv4(ip))
    return _global(ip) and all(_global(v4) for v4 in embedded_ipv4(ip))


__all__ = ["embedded_ipv4", "is_public", "represented_ipv4"]
