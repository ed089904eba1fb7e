"""Prosody and ejabberd as benchmark targets, configured the way ../PEERS.md says is fair.

Each run writes its own configuration into a temporary directory (owned by the server's
system user), binds 127.0.0.1 on a free port with a MUC component, no TLS on loopback,
open in-band registration, no archive, and starts the server as its own user with
``setpriv`` (Prosody refuses root; ejabberdctl as root goes through ``su``, whose PAM limits
cut open files to 1,024), pinned to CPU 0 with ``taskset``. The limiters that would
otherwise be measured instead of the server are switched off: ejabberd's c2s shaper,
registration timeout, MUC room size and message interval, listener backlog; Prosody's
``mod_limits`` stays unloaded and rooms are not locked on creation.

``python -m bench.xmpp.servers install`` installs both (apt-get; root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procs import SERVER_CPU, Server, can_pin, free_port, tree

DOMAIN = "bench.local"
MUC = f"conference.{DOMAIN}"
PACKAGES = ["prosody", "ejabberd", "lua-unbound"]


def install() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", *PACKAGES], check=True, env=env)


def installed(kind: str) -> bool:
    return shutil.which("prosody" if kind == "prosody" else "ejabberdctl") is not None


def version(kind: str) -> str:
    package = "prosody" if kind == "prosody" else "ejabberd"
    found = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True
    )
    return found.stdout.strip()


PROSODY_CONFIG = """\
daemonize = false
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
log = {{ error = "{dir}/prosody.err" }}
admins = {{ }}
modules_enabled = {{ "saslauth"; "disco"; "ping"; "register"; "roster" }}
modules_disabled = {{ "s2s"; "limits"; "mam"; "offline"; "tls"; "c2s_limits" }}
c2s_ports = {{ {port} }}
c2s_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
component_ports = {{ }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
allow_registration = true
registration_whitelist = {{ "127.0.0.1" }}
min_seconds_between_registrations = 0
authentication = "internal_plain"
storage = "internal"

VirtualHost "{domain}"

Component "{muc}" "muc"
    muc_room_locking = false
    muc_room_default_history_length = 0
    restrict_room_creation = false
"""

EJABBERD_CONFIG = """\
hosts: ["{domain}"]
loglevel: error
log_rotate_count: 0
hide_sensitive_log_data: true
certfiles: []
listen:
  -
    port: {port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    shaper: none
    backlog: 1024
    max_stanza_size: 262144
    starttls_required: false
acl:
  loopback:
    ip: ["127.0.0.1/8"]
access_rules:
  register:
    allow: all
  local:
    allow: all
shaper: {{}}
shaper_rules:
  c2s_shaper: none
  max_user_sessions: 10
registration_timeout: infinity
auth_method: internal
auth_password_format: plain
modules:
  mod_disco: {{}}
  mod_ping: {{}}
  mod_register:
    access: register
    ip_access: all
  mod_muc:
    host: "{muc}"
    access: all
    access_create: all
    access_persistent: all
    access_admin: none
    max_users: 5000
    max_users_admin_threshold: 5000
    max_user_conferences: 1000
    min_message_interval: 0
    min_presence_interval: 0
    history_size: 0
    default_room_options:
      mam: false
      persistent: false
"""

# One scheduler, and no busy-waiting, so that its CPU time is work (PEERS.md).
EJABBERDCTL_CONFIG = """\
ERLANG_NODE={node}
INET_DIST_INTERFACE=127.0.0.1
ERL_OPTIONS="+S 1:1 +SDcpu 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
ERL_MAX_PORTS=65536
ERL_PROCESSES=1000000
POLL=true
"""


def _as_user(user: str, argv: list[str], home: str) -> list[str]:
    entry = pwd.getpwnam(user)
    prefix = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups"]
    return [*prefix, "env", f"HOME={home}", *argv]


def _own(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


class XMPPServer(Server):
    """A server whose readiness is a TCP accept on its c2s port (no /health)."""

    def start(self, pin: bool, timeout_s: float = 120.0) -> None:
        import socket

        argv = list(self.argv)
        if pin and can_pin():
            self.pinned = True
            argv = ["taskset", "-c", str(SERVER_CPU), *argv]
        self.process = subprocess.Popen(
            argv, env=self.env, stdout=subprocess.DEVNULL, stderr=self._log
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"server did not start in {timeout_s} s: {tail}")

    def stop(self) -> None:
        """Stop every process of the tree: ejabberdctl runs the BEAM as a child, which a
        signal to the wrapper alone would leave running."""
        pids: list[int] = []
        if self.process is not None and self.process.poll() is None:
            pids = tree(self.process.pid)
            for pid in reversed(pids):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        super().stop()
        deadline = time.monotonic() + 15  # the BEAM shuts down gracefully on SIGTERM
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
            time.sleep(0.1)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def prosody_server(workdir: Path) -> XMPPServer:
    port = free_port()
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    config = workdir / "prosody.cfg.lua"
    config.write_text(PROSODY_CONFIG.format(dir=workdir, port=port, domain=DOMAIN, muc=MUC))
    _own(workdir, "prosody")
    argv = _as_user("prosody", ["prosody", "--config", str(config), "-F"], str(workdir))
    return XMPPServer(argv, dict(os.environ), port)


def ejabberd_server(workdir: Path) -> XMPPServer:
    port = free_port()
    for sub in ("spool", "logs"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    node = f"bench{port}@localhost"
    (workdir / "ejabberd.yml").write_text(EJABBERD_CONFIG.format(port=port, domain=DOMAIN, muc=MUC))
    (workdir / "ejabberdctl.cfg").write_text(EJABBERDCTL_CONFIG.format(node=node))
    _own(workdir, "ejabberd")
    ctl = [
        "ejabberdctl",
        "--config-dir", str(workdir),
        "--config", str(workdir / "ejabberd.yml"),
        "--ctl-config", str(workdir / "ejabberdctl.cfg"),
        "--logs", str(workdir / "logs"),
        "--spool", str(workdir / "spool"),
        "--node", node,
        "foreground",
    ]  # fmt: skip
    return XMPPServer(_as_user("ejabberd", ctl, str(workdir)), dict(os.environ), port)


def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="knock-bench-xmpp-"))
    path.chmod(0o755)
    return path


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        install()
    else:
        raise SystemExit("usage: python -m bench.xmpp.servers install")
