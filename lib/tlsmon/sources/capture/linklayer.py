"""Link-layer headers → what the frame carries and where it starts. No I/O here.

``locate(link_type, data)`` returns ``(ethertype, offset)``: the EtherType of the network-layer
packet (ETHERTYPE_IPV4, ETHERTYPE_IPV6 or any other value, for traffic we do not decode) and
the offset of its first byte, or a negative code: UNKNOWN_LINK_TYPE, or MALFORMED for a frame
too short for its own link-layer header. It never raises.

Link types: Ethernet with any stack of 802.1Q/802.1ad tags (0x8100, 0x88A8, 0x9100), Linux
cooked captures (SLL, SLL2), BSD loopback (NULL: host byte order, LOOP: network byte order) and
raw IP (101, 228, 229, and the DLT values 12 and 14 some old files carry instead of 101).
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

from .frames import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)

__all__ = [
    "locate",
    "ETHERTYPE_IPV4",
    "ETHERTYPE_IPV6",
    "VLAN_ETHERTYPES",
    "UNKNOWN_LINK_TYPE",
    "MALFORMED",
    "NOT_IP",
    "SUPPORTED_LINK_TYPES",
]

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
# IEEE 802.1Q C-tag, 802.1ad S-tag, and the pre-standard QinQ S-tag
VLAN_ETHERTYPES = frozenset({0x8100, 0x88A8, 0x9100})

UNKNOWN_LINK_TYPE = -1
MALFORMED = -2
NOT_IP = 0  # an address family or IP version that is neither IPv4 nor IPv6

# BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 is 10 on Linux, 24 on
# NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS (tcpdump's print-null.c)
_AF_INET = 2
_AF_INET6 = frozenset({10, 24, 28, 30})

Located = Tuple[int, int]


def _after_tags(data: bytes, ethertype: int, offset: int) -> Located:
    """Skip 802.1Q/802.1ad tags (TPID, then 2 bytes TCI, then the next EtherType)."""
    while ethertype in VLAN_ETHERTYPES:
        if len(data) < offset + 4:
            return MALFORMED, 0
        ethertype = data[offset + 2] << 8 | data[offset + 3]
        offset += 4
    return ethertype, offset


def _ethernet(data: bytes) -> Located:
    # IEEE 802.3: destination (6), source (6), EtherType (2); values below 0x0600 are an
    # 802.3 length (LLC follows), which is no EtherType we decode
    if len(data) < 14:
        return MALFORMED, 0
    return _after_tags(data, data[12] << 8 | data[13], 14)


def _linux_sll(data: bytes) -> Located:
    # packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
    if len(data) < 16:
        return MALFORMED, 0
    return _after_tags(data, data[14] << 8 | data[15], 16)


def _linux_sll2(data: bytes) -> Located:
    # protocol (2), reserved (2), interface index (4), ARPHRD type (2), packet type (1),
    # address length (1), address (8)
    if len(data) < 20:
        return MALFORMED, 0
    return _after_tags(data, data[0] << 8 | data[1], 20)


def _family(family: int) -> Located:
    if family == _AF_INET:
        return ETHERTYPE_IPV4, 4
    if family in _AF_INET6:
        return ETHERTYPE_IPV6, 4
    return NOT_IP, 4


def _null(data: bytes) -> Located:
    # the address family as a 4-byte integer in the capturing host's byte order: a value
    # above 0xFFFF can only be the other byte order (as Wireshark and tcpdump read it)
    if len(data) < 4:
        return MALFORMED, 0
    family = int.from_bytes(data[:4], "little")
    return _family(int.from_bytes(data[:4], "big") if family > 0xFFFF else family)


def _loop(data: bytes) -> Located:
    if len(data) < 4:
        return MALFORMED, 0
    return _family(int.from_bytes(data[:4], "big"))


def _raw(data: bytes) -> Located:
    if not data:
        return MALFORMED, 0
    version = data[0] >> 4
    if version == 4:
        return ETHERTYPE_IPV4, 0
    if version == 6:
        return ETHERTYPE_IPV6, 0
    return MALFORMED, 0


def _ipv4(data: bytes) -> Located:
    return ETHERTYPE_IPV4, 0


def _ipv6(data: bytes) -> Located:
    return ETHERTYPE_IPV6, 0


_LOCATORS: Dict[int, Callable[[bytes], Located]] = {
    LINKTYPE_ETHERNET: _ethernet,
    LINKTYPE_LINUX_SLL: _linux_sll,
    LINKTYPE_LINUX_SLL2: _linux_sll2,
    LINKTYPE_NULL: _null,
    LINKTYPE_LOOP: _loop,
    LINKTYPE_RAW: _raw,
    12: _raw,  # DLT_RAW on most systems, found in some files instead of LINKTYPE_RAW
    14: _raw,  # DLT_RAW on OpenBSD
    LINKTYPE_IPV4: _ipv4,
    LINKTYPE_IPV6: _ipv6,
}

SUPPORTED_LINK_TYPES = frozenset(_LOCATORS)


def locate(link_type: int, data: bytes) -> Located:
    """Where a frame's network-layer packet starts.

    Returns:
        (ethertype, offset); ethertype is UNKNOWN_LINK_TYPE for link types we do not read,
        MALFORMED when the frame is too short for its link-layer header (offset 0 then).
    """
    locator = _LOCATORS.get(link_type)
    if locator is None:
        return UNKNOWN_LINK_TYPE, 0
    return locator(data)
