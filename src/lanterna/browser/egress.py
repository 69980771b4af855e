"""What a tenant's browser may reach: URL schemes, hosts, addresses and ports.

The policy is pure: it judges a URL (before anything is sent) or a resolved address (at the
forward proxy every browser must use, after DNS, so a name that resolves to a forbidden
address is refused too). Order of rules, first match wins:

1. always denied — link-local addresses (cloud metadata), the browsers' DevTools ports, the
   server's and the proxies' own ports on this host; no setting lifts these;
2. ``LANTERNA_EGRESS_DENY`` entries;
3. ``LANTERNA_EGRESS_ALLOW`` entries;
4. the mode: ``default`` allows everything else, ``public-only`` also denies loopback and
   private ranges.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Callable, Iterable
from enum import StrEnum
from urllib.parse import unquote, urlsplit, urlunsplit

import psutil
from pydantic import BaseModel

from lanterna.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Schemes a page may load in a tab; everything else (file:, chrome:, devtools:, view-source:,
# chrome-extension:, filesystem: …) reaches the host or the browser's own internals.
ALLOWED_SCHEMES = frozenset({"http", "https", "ws", "wss", "about", "data", "blob", "javascript"})
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "::1/128",
        "::/128",
        "fc00::/7",
    )
)
THIS_HOST = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("0.0.0.0/32"),
    ipaddress.ip_network("::1/128"),
    ipaddress.ip_network("::/128"),
)
# Where Chromium's own account, API and update calls are pointed (see chromium.py): names under
# .invalid never resolve, so these are refused without a lookup and not logged as the tenant's.
BROWSER_SERVICE_HOSTS = ("gaia.invalid", "googleapis.invalid", "lso.invalid", "update.invalid")
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
# A page of the server's own that tenants may load: the static demo shop.
PUBLIC_SERVER_PATH = "/demo/"


class EgressMode(StrEnum):
    """``LANTERNA_EGRESS``: what is reachable beyond the always-denied set."""

    DEFAULT = "default"  # loopback and private ranges allowed (internal apps, the demo shop)
    PUBLIC_ONLY = "public-only"


class Rule(StrEnum):
    """Why a request was refused; the message names the setting that changes it."""

    SCHEME = "scheme"
    LINK_LOCAL = "link-local"
    PROTECTED_PORT = "protected-port"
    DENY_LIST = "deny-list"
    PRIVATE = "private-range"
    UNRESOLVABLE = "unresolvable"


_SETTINGS = {
    Rule.SCHEME: "always denied; only http(s), ws(s), about:, data: and blob: URLs may be opened",
    Rule.LINK_LOCAL: "always denied (cloud metadata lives there)",
    Rule.PROTECTED_PORT: "always denied (a browser's DevTools port or lanterna's own port)",
    Rule.DENY_LIST: "listed in LANTERNA_EGRESS_DENY; remove it there to allow it",
    Rule.PRIVATE: "LANTERNA_EGRESS=public-only; add it to LANTERNA_EGRESS_ALLOW or unset LANTERNA_EGRESS",
    Rule.UNRESOLVABLE: "the host name does not resolve",
}


class EgressRefusal(BaseModel):
    """A refused request: what, which rule, and the setting that changes it."""

    target: str
    rule: Rule
    detail: str = ""

    @property
    def message(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"lanterna's egress policy refused {self.target}{detail}: {self.rule} — {_SETTINGS[self.rule]}"


class EgressEntry(BaseModel):
    """One allow or deny entry: a host name (``*.corp.example``), an address or CIDR, and/or a port.

    Written ``host``, ``host:port``, ``10.0.0.0/8``, ``[::1]:8080`` or ``:5432``.
    """

    host: str | None = None  # lower-case name or glob
    network: str | None = None  # CIDR
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> EgressEntry:
        """Parse one entry; ``ValueError`` with the expected forms when it is not one."""
        text = text.strip()
        if not text:
            raise ValueError("empty egress entry")
        host, port = text, None
        if text.startswith("["):
            inner, _, rest = text[1:].partition("]")
            host = inner
            if rest.startswith(":"):
                port = _port(rest[1:], text)
        elif text.count(":") == 1:
            host, _, port_text = text.partition(":")
            port = _port(port_text, text)
        if not host:
            return cls(port=port)
        try:
            return cls(network=str(ipaddress.ip_network(host, strict=False)), port=port)
        except ValueError:
            pass
        if any(c in host for c in "/ \t\\@") or ("." not in host.strip("*.") and host != "localhost"):
            raise ValueError(
                f"egress entry {text!r} is not a host name, address, CIDR or :port "
                "(examples: intranet.example, *.corp.example, 10.0.0.0/8, [::1]:8080, :5432)"
            )
        return cls(host=host.lower().rstrip("."), port=port)

    def matches(self, host: str, address: IPAddress | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address is not None and address in ipaddress.ip_network(self.network)
        if self.host is not None:
            return fnmatch.fnmatchcase(host, self.host) or (
                self.host.startswith("*.") and host == self.host[2:]
            )
        return True


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"egress entry {entry!r} has no valid port after ':'")
    return int(text)


def parse_entries(text: str) -> list[EgressEntry]:
    """Comma- or space-separated entries of ``LANTERNA_EGRESS_ALLOW``/``_DENY``."""
    return [EgressEntry.parse(part) for part in text.replace(",", " ").split()]


def as_address(host: str) -> IPAddress | None:
    """The address a URL host literally names, if it is one (IPv4-mapped IPv6 unwrapped)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class EgressPolicy:
    """Judges URLs and resolved addresses for every browser of one server.

    ``protected_ports`` is asked on every check: it returns the ports of this host no page may
    reach (every browser's DevTools port, the server's port, the proxies' ports).
    """

    def __init__(
        self,
        mode: EgressMode = EgressMode.DEFAULT,
        *,
        allow: Iterable[EgressEntry] = (),
        deny: Iterable[EgressEntry] = (),
        protected_ports: Callable[[], set[int]] = set,
        server_ports: Callable[[], set[int]] = set,
    ) -> None:
        self.mode = mode
        self.allow = list(allow)
        self.deny = list(deny)
        self._protected_ports = protected_ports
        self._server_ports = server_ports
        self._local = local_addresses()

    def _is_this_host(self, address: IPAddress) -> bool:
        return address in self._local or any(address in net for net in THIS_HOST)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        protected_ports: Callable[[], set[int]] = set,
        server_ports: Callable[[], set[int]] = set,
    ) -> EgressPolicy:
        """The policy ``LANTERNA_EGRESS``, ``_EGRESS_ALLOW`` and ``_EGRESS_DENY`` describe.

        ``ValueError`` naming the setting when one of them does not parse.
        """
        try:
            mode = EgressMode(settings.egress)
        except ValueError:
            raise ValueError(
                f"LANTERNA_EGRESS={settings.egress!r} is not one of: {', '.join(m.value for m in EgressMode)}"
            ) from None
        allow: list[EgressEntry] = []
        deny: list[EgressEntry] = []
        for name, text, into in (
            ("ALLOW", settings.egress_allow, allow),
            ("DENY", settings.egress_deny, deny),
        ):
            try:
                into.extend(parse_entries(text))
            except ValueError as exc:
                raise ValueError(f"LANTERNA_EGRESS_{name}: {exc}") from None
        return cls(mode, allow=allow, deny=deny, protected_ports=protected_ports, server_ports=server_ports)

    def check_url(self, url: str) -> EgressRefusal | None:
        """Judge a URL before it is opened: its scheme, and its host when that is an address."""
        canonical = canonical_url(url)
        if canonical is None:
            return EgressRefusal(target=url[:200], rule=Rule.SCHEME, detail="not a valid URL")
        try:
            parts = urlsplit(canonical)
            port = parts.port
        except ValueError:
            return EgressRefusal(target=url[:200], rule=Rule.SCHEME, detail="not a valid URL")
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            return EgressRefusal(target=url[:200], rule=Rule.SCHEME, detail=f"{scheme or 'no'} scheme")
        if scheme == "about" and not _ABOUT_OK.match(canonical):
            # Chromium turns about:<page> into chrome://<page> (the browser's own pages).
            return EgressRefusal(
                target=url[:200], rule=Rule.SCHEME, detail="only about:blank and about:srcdoc"
            )
        if scheme not in DEFAULT_PORTS:
            return None
        host = (parts.hostname or "").lower().rstrip(".")
        port = port or DEFAULT_PORTS[scheme]
        address = as_address(host)
        if address is None and (host == "localhost" or host.endswith(".localhost")):
            address = ipaddress.ip_address("127.0.0.1")  # resolved so by the proxy too
        return self.check_host(host, address, port, path=parts.path or "/", plain_http=scheme == "http")

    def check_host(
        self,
        host: str,
        address: IPAddress | None,
        port: int,
        *,
        path: str | None = None,
        plain_http: bool = False,
    ) -> EgressRefusal | None:
        """Judge a connection to ``host`` (resolved to ``address`` when known) on ``port``.

        ``path`` is given for a plain HTTP request: the server's static demo shop is the one
        page of the server's own port a tenant may load.
        """
        target = f"{host}:{port}"
        if address is not None:
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            if any(address in net for net in LINK_LOCAL):
                return EgressRefusal(target=target, rule=Rule.LINK_LOCAL)
            if self._is_this_host(address) and port in self._protected_ports():
                server_page = (
                    plain_http
                    and path is not None
                    and (path + "/").startswith(PUBLIC_SERVER_PATH)
                    and port in self._server_ports()
                )
                if not server_page:
                    return EgressRefusal(target=target, rule=Rule.PROTECTED_PORT)
        if any(entry.matches(host, address, port) for entry in self.deny):
            return EgressRefusal(target=target, rule=Rule.DENY_LIST)
        if any(entry.matches(host, address, port) for entry in self.allow):
            return None
        if self.mode is EgressMode.PUBLIC_ONLY:
            private = address is not None and (
                any(address in net for net in PRIVATE) or not address.is_global
            )
            if private or host == "localhost" or host.endswith(".localhost"):
                return EgressRefusal(target=target, rule=Rule.PRIVATE)
        return None


def local_addresses() -> frozenset[IPAddress]:
    """Addresses of this machine's interfaces: a listener on 0.0.0.0 answers on each of them."""
    found: set[IPAddress] = set()
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family in (socket.AF_INET, socket.AF_INET6):
                address = as_address(entry.address.split("%")[0])
                if address is not None:
                    found.add(address)
    return frozenset(found)


# ----- URL canonicalisation: judge what Chromium will load, not what the text looks like -----


_SPECIAL = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_ABOUT_OK = re.compile(r"^about:(blank|srcdoc)([?#].*)?$", re.IGNORECASE)
_C0_SPACE = "".join(chr(c) for c in range(0x21))
_DROPPED = {ord("\t"): None, ord("\n"): None, ord("\r"): None}
_NUMBER = re.compile(r"^(0[xX][0-9A-Fa-f]*|[0-9]+)$")


def canonical_url(url: str) -> str | None:
    """``url`` as a WHATWG parser (Chromium) sees it, as far as the egress check cares.

    Surrounding controls and spaces are dropped and tabs and newlines removed; for http(s)
    and ws(s) backslashes are slashes, extra slashes after the scheme are ignored, and the
    host is percent-decoded, NFKC-folded and, when it ends in a number, read as IPv4
    (``http://2852039166/`` is 169.254.169.254). None when the URL cannot be parsed.
    """
    url = url.strip(_C0_SPACE).translate(_DROPPED)
    match = _SCHEME.match(url)
    if match is None:
        return None
    scheme = match.group(1).lower()
    rest = url[match.end() :]
    if scheme not in _SPECIAL:
        return f"{scheme}:{rest}"
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    rest = rest[:cut].replace("\\", "/").lstrip("/") + rest[cut:]
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port
    except ValueError:
        return None
    # Percent-decoded and folded like IDNA does, so that e.g. fullwidth digits name the address.
    host = unicodedata.normalize("NFKC", unquote(parts.hostname or "")).replace("\u3002", ".").lower()
    if not host:
        return None
    if ":" in host:  # IPv6; the egress policy unwraps IPv4-mapped addresses
        host = f"[{host}]"
    else:
        try:
            host = _ipv4(host) or host
        except ValueError:
            return None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def _ipv4(host: str) -> str | None:
    """The dotted address of a host that ends in a number (WHATWG), or None for a name.

    ``ValueError`` when it ends in a number but is no valid address (browsers refuse it too).
    """
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _NUMBER.match(labels[-1]):
        return None
    numbers = []
    for label in labels:
        if not _NUMBER.match(label):
            raise ValueError(host)
        if label[:2].lower() == "0x":
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            numbers.append(int(label, 8))  # ValueError for 8 or 9, as in browsers
        else:
            numbers.append(int(label))
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))
