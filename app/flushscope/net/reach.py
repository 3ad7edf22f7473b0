"""Who can reach a listener: whether an address keeps it to this machine, whether a peer is on this machine,
and the URLs a client can really use (never the wildcard ``0.0.0.0`` or ``::`` a server binds to).

Pure functions of addresses, so that the rules are tested without other machines: tests may only use the
loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Final

#: The addresses that mean "every interface" to bind, as they are written.
WILDCARDS: Final = frozenset({"", "0.0.0.0", "::", "*"})

#: What a listener reachable from other machines risks, in words (the command line and the window).
REMOTE_RISK: Final = "anyone who can reach this port can use it"
#: What it risks with the owner's key on top.
KEY_RISK: Final = "with your key, they spend your credits"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    name = host.strip().strip("[]").partition("%")[0]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """True when a server bound to ``host`` can be reached from this machine only: ``localhost``,
    127.0.0.0/8, ``::1`` (and ``::ffff:127.x.y.z``). The wildcards, every other address, and every other host
    name (which may resolve anywhere) reach further."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    return is_loopback_address(name)


def is_loopback_address(host: str) -> bool:
    """True for an IP address of the loopback (127.0.0.0/8, ``::1``, ``::ffff:127.x.y.z``); False for anything
    else, names included: what a peer's address says is checked without resolving anything."""
    address = _address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def peer_is_local(remote_address: object) -> bool:
    """True when a connection's peer (``(host, port, ...)`` as sockets report it) is on this machine's
    loopback. Anything else, an address that cannot be read included, is not: the key stays home."""
    if not isinstance(remote_address, tuple) or not remote_address:
        return False
    host = remote_address[0]
    return isinstance(host, str) and is_loopback_address(host)


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def client_urls(bound_host: str, port: int, hostname: str | None = None) -> list[str]:
    """The ``ws://`` URLs a client can use for a server bound to ``bound_host`` on ``port``, the one for this
    machine first. A wildcard gives the loopback URL and then one with the machine's host name (``hostname``,
    default :func:`socket.gethostname`) for other machines; a concrete address gives itself."""
    host = bound_host.strip().strip("[]")
    if host not in WILDCARDS:
        return [f"ws://{_netloc(host, port)}"]
    loopback = "::1" if host == "::" else "127.0.0.1"
    urls = [f"ws://{_netloc(loopback, port)}"]
    name = socket.gethostname() if hostname is None else hostname
    if name and not is_loopback_host(name):
        urls.append(f"ws://{_netloc(name, port)}")
    return urls


def remote_warning(where: str, urls: list[str], *, key_shared: bool | None = None) -> str:
    """The warning printed when a listener on ``where`` (``HOST:PORT``) can be reached from other machines.
    ``key_shared``: None for a server that holds no key of the user's (the emulator, a proxy without one);
    False when the user's key is kept for this machine's connections; True when other machines get it too."""
    others = [u for u in urls if not is_loopback_host(_host_of(u))]
    reach = f"; other machines connect to {others[0]}" if others else ""
    text = f"listening on {where}, reachable from other machines: {REMOTE_RISK}{reach}"
    if key_shared is True:
        return f"{text}; {KEY_RISK} (--share-key)"
    if key_shared is False:
        return (
            f"{text}; your key is used only for connections from this machine (--share-key gives it to all)"
        )
    return text


def _host_of(url: str) -> str:
    netloc = url.partition("://")[2].partition("/")[0]
    if netloc.startswith("["):
        return netloc[1:].partition("]")[0]
    return netloc.rpartition(":")[0]
