"""OS-level isolation of each browser process, below anything a page or a CDP client can change.

When lanterna runs as root (the usual container or VM deployment) every browser runs:

- as its **own unprivileged user** (a numeric uid of its own, no groups): it cannot read the
  server's files (``LANTERNA_HOME``, ``/root``), other browsers' profiles (each ``0700``, owned
  by another uid), or signal and trace other browsers' processes;
- with **Chromium's own sandbox** on (``--no-sandbox`` is dropped; it needs root only to be off);
- in a **private mount namespace** where ``/etc/chromium`` is replaced by lanterna's managed
  browser policy (URL block list for ``file:``, ``chrome:``, ``devtools:``, ``view-source:``; no
  background Google services; WebRTC bound to the proxy), so the browser enforces it itself;
- with a **minimal environment** (no API or vault keys inherited from the server);
- with a **parent-death signal**, so it dies with the server even on ``kill -9``.

As another user the same mount namespace is tried through an unprivileged user namespace; where
the platform allows neither, the browser runs as lanterna's user and the other layers (proxy,
filtering CDP relay, action checks) remain. ``LANTERNA_BROWSER_ISOLATION=off`` opts out.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from lanterna.errors import LanternaError

log = logging.getLogger(__name__)

POLICY_DIRS = {"chromium": Path("/etc/chromium"), "chrome": Path("/etc/opt/chrome")}
BLOCKED_URLS = (
    "file://*",
    "chrome://*",
    "chrome-untrusted://*",
    "devtools://*",
    "view-source:*",
    "chrome-extension://*",
    "filesystem:*",
)
# Chromium's internal pages a headless browser opens by itself: blocked, the omnibox popup would
# turn into a visible error tab. Tenants still cannot open them (actions and relay refuse chrome:).
ALLOWED_URLS = ("about:blank", "chrome://omnibox-popup.top-chrome")
UID_SPAN = 10_000  # uids per server process


class Isolation(StrEnum):
    """How a browser process is isolated from the host (``LANTERNA_BROWSER_ISOLATION``)."""

    USER = "user"  # own uid + mount namespace + Chromium sandbox (lanterna runs as root)
    NAMESPACE = "namespace"  # mount namespace through a user namespace, lanterna's own uid
    NONE = "none"


def managed_policy(proxy_url: str | None) -> dict[str, object]:
    """The browser policy each browser gets (Chromium enforces it in the browser process)."""
    policy: dict[str, object] = {
        "URLBlocklist": list(BLOCKED_URLS),
        "URLAllowlist": list(ALLOWED_URLS),
        "DeveloperToolsAvailability": 1,  # DevTools allowed (CDP needs it); the UI is headless anyway
        "DownloadRestrictions": 0,
        "BrowserSignin": 0,
        "SyncDisabled": True,
        "MetricsReportingEnabled": False,
        "SafeBrowsingProtectionLevel": 0,
        "ComponentUpdatesEnabled": False,
        "BackgroundModeEnabled": False,
        "DnsOverHttpsMode": "off",
        "SearchSuggestEnabled": False,
        "SpellCheckServiceEnabled": False,
        "TranslateEnabled": False,
        "NetworkPredictionOptions": 2,  # no DNS prefetch or preconnect
        "PromotionsEnabled": False,
        "WebRtcIPHandling": "disable_non_proxied_udp",
        "BuiltInDnsClientEnabled": False,
    }
    if proxy_url:
        policy["ProxySettings"] = {
            "ProxyMode": "fixed_servers",
            "ProxyServer": proxy_url,
            "ProxyBypassList": "<-loopback>",
        }
    return policy


def policy_dir_for(binary: str) -> Path:
    """Where this Chromium build reads its managed policy from."""
    real = os.path.realpath(binary)
    return POLICY_DIRS["chrome"] if "/opt/google/" in real else POLICY_DIRS["chromium"]


def real_binary(binary: str) -> str:
    """The ELF behind a distribution's shell launcher (``/usr/bin/chromium`` is a script)."""
    path = Path(binary)
    try:
        if path.read_bytes()[:2] == b"#!":
            for candidate in (
                Path("/usr/lib/chromium/chromium"),
                Path("/usr/lib/chromium-browser/chromium-browser"),
            ):
                if os.access(candidate, os.X_OK):
                    return str(candidate)
    except OSError:
        pass
    return binary


def _user_namespaces_available() -> bool:
    try:
        return int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except (OSError, ValueError):
        return False


def _probe(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def detect_isolation(setting: str, binary: str = "/usr/bin/chromium") -> Isolation:
    """The strongest isolation this platform allows, unless the setting turns it off."""
    if setting == "off":
        return Isolation.NONE
    if shutil.which("unshare") and shutil.which("setpriv"):
        if os.geteuid() == 0 and _probe(["unshare", "--mount", "true"]):
            return Isolation.USER
        # Without root the policy folder must already exist to be mounted over.
        target = policy_dir_for(binary)
        bind = ["sh", "-c", 'mount --bind "$0" "$1"', tempfile.gettempdir(), str(target)]
        if (
            _user_namespaces_available()
            and target.is_dir()
            and _probe(["unshare", "--map-current-user", "--mount", "--propagation=private", *bind])
        ):
            return Isolation.NAMESPACE
    log.warning(
        "browsers run without OS isolation on this platform (needs root, or user namespaces, "
        "unshare and setpriv): the egress proxy, CDP filter and action checks still apply"
    )
    return Isolation.NONE


@dataclass
class BrowserSandbox:
    """Builds the isolated command and environment of each browser launch."""

    isolation: Isolation
    uid_base: int = 1_000_000_000
    _free_uids: list[int] = field(default_factory=list)
    _next_slot: int = 0

    @property
    def runs_sandboxed(self) -> bool:
        """True when Chromium's own sandbox can be on (it runs as an unprivileged user)."""
        return self.isolation is not Isolation.NONE and (
            os.geteuid() != 0 or self.isolation is Isolation.USER
        )

    def allocate_uid(self) -> int | None:
        """A uid for one browser (``Isolation.USER``), returned with ``release_uid``."""
        if self.isolation is not Isolation.USER:
            return None
        if self._free_uids:
            return self._free_uids.pop()
        self._next_slot = self._next_slot % (UID_SPAN - 1) + 1
        # A block of uids per server process, so two servers on one host never share one.
        return self.uid_base + (os.getpid() % 300_000) * UID_SPAN + self._next_slot

    def release_uid(self, uid: int | None) -> None:
        if uid is not None:
            self._free_uids.append(uid)

    def prepare_profile(
        self, profile_dir: Path, uid: int | None, proxy_url: str | None, binary: str
    ) -> Path | None:
        """Own the profile by the browser's uid (``0700``) and write its policy; returns the
        policy folder to mount over the browser's policy path, if any."""
        for sub in ("tmp", "cache", "config"):
            (profile_dir / sub).mkdir(exist_ok=True)
        if uid is not None:
            _check_reachable(profile_dir.parent)
            profile_dir.parent.chmod(0o711)  # browsers may enter their own folder, not list others
            for path in (profile_dir, *profile_dir.rglob("*")):
                os.chown(path, uid, uid, follow_symlinks=False)
            profile_dir.chmod(0o700)
        if self.isolation is Isolation.NONE:
            return None
        etc = profile_dir / "policy"  # owned by lanterna's user: the browser cannot change it
        managed = etc / "policies" / "managed"
        managed.mkdir(parents=True, exist_ok=True)
        source = policy_dir_for(binary)
        for extra in ("master_preferences", "initial_preferences"):
            if (source / extra).is_file():
                shutil.copy(source / extra, etc / extra)
        (managed / "lanterna.json").write_text(json.dumps(managed_policy(proxy_url)))
        for path in (etc, *etc.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        return etc

    def command(
        self, chromium_args: list[str], *, uid: int | None, policy: Path | None, binary: str
    ) -> list[str]:
        """``chromium_args`` (binary first) wrapped to run isolated."""
        if self.isolation is Isolation.NONE or policy is None:
            return chromium_args
        target = policy_dir_for(binary)
        if self.isolation is Isolation.USER:
            target.mkdir(parents=True, exist_ok=True)  # the mount point; empty on a host without one
        args = [real_binary(chromium_args[0]), *chromium_args[1:]]
        if self.runs_sandboxed:
            args = [a for a in args if a != "--no-sandbox"]
        mount = f'mount --bind "$0" {target} && exec "$@"'
        # Same process from unshare to Chromium (each step execs the next): the server stays its parent.
        user = ["--map-current-user"] if self.isolation is Isolation.NAMESPACE else []
        switch = ["--pdeathsig=KILL", "--"]
        if self.isolation is Isolation.USER:
            assert uid is not None
            switch = [f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *switch]
        unshare = ["unshare", *user, "--mount", "--propagation=private", "--"]
        return [*unshare, "sh", "-c", mount, str(policy), "setpriv", *switch, *args]

    @staticmethod
    def environment(profile_dir: Path) -> dict[str, str]:
        """The browser's whole environment: nothing of the server's (keys, tokens) leaks in."""
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(profile_dir),
            # The crash handler leaves the process group; the profile path in its command line
            # lets release and the orphan sweep find it.
            "XDG_CONFIG_HOME": str(profile_dir / "config"),
            "XDG_CACHE_HOME": str(profile_dir / "cache"),
            "TMPDIR": str(profile_dir / "tmp"),
        }
        for name in ("LANG", "LC_ALL", "TZ", "FONTCONFIG_PATH", "FONTCONFIG_FILE"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env


def _check_reachable(root: Path) -> None:
    """A browser running as its own user must be able to enter every folder above its profile."""
    for folder in root.resolve().parents:
        if not folder.stat().st_mode & 0o001:
            raise LanternaError(
                f"browser profiles under {root} are out of reach of the browsers' own users: "
                f"{folder} is closed to others (chmod o+x it, or choose a profile folder under /tmp)"
            )
