"""secscan.delivery.netaddr: IPv4 addresses hidden in IPv6 addresses are checked like IPv4 addresses."""

from __future__ import annotations

import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secscan.delivery import http
from secscan.delivery.http import HttpBlocked, HttpPolicy
from secscan.delivery.netaddr import embedded_ipv4, is_public


def _v6(high: bytes, v4: IPv4Address) -> IPv6Address:
    return IPv6Address(high.ljust(12, b"\0")[:12] + v4.packed)


def _mapped(v4: IPv4Address) -> IPv6Address:
    return _v6(b"\0" * 10 + b"\xff\xff", v4)


def _translated(v4: IPv4Address) -> IPv6Address:  # ::ffff:0:a.b.c.d
    return _v6(b"\0" * 8 + b"\xff\xff\0\0", v4)


def _compatible(v4: IPv4Address) -> IPv6Address:  # ::a.b.c.d
    return _v6(b"", v4)


def _nat64(v4: IPv4Address) -> IPv6Address:  # 64:ff9b::a.b.c.d
    return _v6(b"\x00\x64\xff\x9b", v4)


def _nat64_local_96(v4: IPv4Address) -> IPv6Address:  # 64:ff9b:1::a.b.c.d
    return _v6(b"\x00\x64\xff\x9b\x00\x01", v4)


def _nat64_local_48(v4: IPv4Address) -> IPv6Address:  # RFC 6052 /48: 2 octets, u, 2 octets
    raw = v4.packed
    return IPv6Address(b"\x00\x64\xff\x9b\x00\x01" + raw[:2] + b"\0" + raw[2:] + b"\0" * 5)


def _sixtofour(v4: IPv4Address) -> IPv6Address:  # 2002:AABB:CCDD::
    return IPv6Address(b"\x20\x02" + v4.packed + b"\0" * 10)


def _teredo(v4: IPv4Address) -> IPv6Address:  # 2001:0:server:flags:port:~client
    server = IPv4Address("65.54.227.120").packed
    client = bytes(b ^ 0xFF for b in v4.packed)
    return IPv6Address(b"\x20\x01\0\0" + server + b"\x80\0\x63\xbf" + client)


def _isatap(v4: IPv4Address) -> IPv6Address:  # 2600:1f18::5efe:a.b.c.d
    return IPv6Address(b"\x26\x00\x1f\x18" + b"\0" * 4 + b"\0\0\x5e\xfe" + v4.packed)


FORMS: dict[str, Callable[[IPv4Address], IPv6Address]] = {
    "mapped": _mapped,
    "translated": _translated,
    "compatible": _compatible,
    "nat64": _nat64,
    "nat64-local-96": _nat64_local_96,
    "nat64-local-48": _nat64_local_48,
    "6to4": _sixtofour,
    "teredo": _teredo,
    "isatap": _isatap,
}
REPRESENTATIONS = ("mapped", "translated", "compatible")


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "::127.0.0.1", "::ffff:0:7f00:1", "::ffff:127.0.0.1",
     "64:ff9b:1::a9fe:a9fe", "64:ff9b:1:a9fe:a9:fe00::", "2001:0:4136:e378:8000:63bf:80ff:fffe",
     "2600:1f18::5efe:a9fe:a9fe"],
)
def test_the_reported_embedding_forms_are_blocked(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, 443))]
    )
    with pytest.raises(HttpBlocked):
        http.vetted_address("metadata.example", 443, HttpPolicy())


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_carries_its_ipv4_address(form: str) -> None:
    v4 = IPv4Address("169.254.169.254")
    assert v4 in embedded_ipv4(FORMS[form](v4))


@given(v4=st.ip_addresses(v=4), form=st.sampled_from(sorted(FORMS)))
def test_an_embedded_address_is_never_more_public_than_its_ipv4(v4: IPv4Address, form: str) -> None:
    if is_public(str(FORMS[form](v4))):
        assert is_public(str(v4)), f"{FORMS[form](v4)} passes but embeds {v4}"


@given(v4=st.ip_addresses(v=4), form=st.sampled_from(REPRESENTATIONS))
def test_a_representation_counts_as_its_ipv4_address(v4: IPv4Address, form: str) -> None:
    assert is_public(str(FORMS[form](v4))) == is_public(str(v4))


@given(v4=st.sampled_from(["8.8.8.8", "140.82.112.6", "1.1.1.1"]), form=st.sampled_from(["nat64", "6to4"]))
def test_public_ipv4_behind_a_translator_still_passes(v4: str, form: str) -> None:
    assert is_public(str(FORMS[form](IPv4Address(v4))))


def test_plain_global_ipv6_passes_and_private_ipv6_does_not() -> None:
    assert is_public("2606:4700:4700::1111")
    assert not is_public("fd00:ec2::254") and not is_public("fe80::1%eth0") and not is_public("ff02::1")
