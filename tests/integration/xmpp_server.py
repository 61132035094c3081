"""A real XMPP server for tests: Debian's Prosody run as a plain process from a temp dir.

    from xmpp_server import start_prosody
    server = start_prosody(tmp_path, users={"alice": "pw-a", "bot": "pw-bot"})
    server.domain          # "chat.test": the VirtualHost; users are alice@chat.test, ...
    server.muc             # "conference.chat.test": the MUC component (rooms room@conference.chat.test)
    server.c2s_port        # client-to-server TCP port on 127.0.0.1 (no TLS offered; SCRAM/PLAIN auth)
    server.http_port       # HTTP port on 127.0.0.1 serving WebSocket and BOSH
    server.websocket_url   # "ws://127.0.0.1:<http_port>/xmpp-websocket" (RFC 7395, e.g. for converse.js)
    server.bosh_url        # "http://127.0.0.1:<http_port>/http-bind"
    server.jid("alice")    # "alice@chat.test"
    server.room_jid("r")   # "r@conference.chat.test"
    server.users           # {"alice": "pw-a", ...}: the accounts and their passwords
    server.add_user("carol", "pw-c")   # another account (or a new password for one), running or not
    server.restart()       # stop and start again on the same ports with the same accounts
    server.stop()          # also call this in a finally block
    server.output()        # Prosody's log, for assertion messages

Rooms are made by joining them (no locking, no configuration form), are public and
non-anonymous by default (every occupant sees the real JIDs: `public_jids=False` makes them
semi-anonymous), and are not persistent (a restart empties them; clients rejoin). Accounts are
created with prosodyctl before the server starts. Ports are free ones picked at start unless
given. HTTP has CORS open to any origin (Prosody's default), so a page on another origin can
use the WebSocket or BOSH endpoint. Stanzas up to `stanza_limit` bytes are accepted on c2s and
WebSocket. When the tests run as root Prosody keeps running as root (run_as_root) rather than
switching to the system's prosody user, which could not read the temp dir; it never touches
/etc/prosody or /var/lib/prosody.
"""
import socket
import subprocess
from pathlib import Path

from confab_testlib import Proc, port_is_bound, wait_for

PROSODY = "/usr/bin/prosody"
PROSODYCTL = "/usr/bin/prosodyctl"


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def lua_string(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


class ProsodyServer:
    def __init__(self, tmpdir, users, domain, c2s_port, http_port, public_jids, stanza_limit):
        self.dir = Path(tmpdir) / "prosody"
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "data").mkdir(exist_ok=True)
        self.domain = domain
        self.muc = "conference." + domain
        self.c2s_port = c2s_port or free_tcp_port()
        self.http_port = http_port or free_tcp_port()
        self.websocket_url = f"ws://127.0.0.1:{self.http_port}/xmpp-websocket"
        self.bosh_url = f"http://127.0.0.1:{self.http_port}/http-bind"
        self.config = self.dir / "prosody.cfg.lua"
        self.config.write_text(self._config_text(public_jids, stanza_limit))
        self.users = dict(users)
        for user, password in self.users.items():
            self.add_user(user, password)
        self.proc = None
        self.runs = 0
        self.start()

    def _config_text(self, public_jids, stanza_limit):
        d = self.dir
        return f"""-- written by tests/integration/xmpp_server.py
run_as_root = true
daemonize = false
pidfile = {lua_string(d / "prosody.pid")}
data_path = {lua_string(d / "data")}
plugin_paths = {{}}
log = {{ debug = {lua_string(d / "prosody.log")} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.c2s_port} }}
c2s_direct_tls_ports = {{}}
s2s_ports = {{}}
component_ports = {{}}
http_ports = {{ {self.http_port} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{}}
admin_socket = {lua_string(d / "admin.sock")}
modules_enabled = {{
    "roster"; "saslauth"; "disco"; "ping"; "posix";
    "bosh"; "websocket";
}}
modules_disabled = {{ "s2s"; "tls"; "offline"; "c2s_direct_tls" }}
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
consider_bosh_secure = true
c2s_stanza_size_limit = {stanza_limit}
limits = {{ c2s = {{ rate = "10mb/s" }} }}

VirtualHost {lua_string(self.domain)}

Component {lua_string(self.muc)} "muc"
    muc_room_locking = false
    muc_room_default_public = true
    muc_room_default_persistent = false
    muc_room_default_public_jids = {"true" if public_jids else "false"}
    muc_room_default_history_length = 0
"""

    def _prosodyctl(self, *args):
        return subprocess.run([PROSODYCTL, "--config", str(self.config), *args], capture_output=True,
                              text=True, timeout=30)

    def add_user(self, user, password):
        """Creates the account user@domain (the server may be running or not)."""
        r = self._prosodyctl("register", user, self.domain, password)
        if r.returncode != 0:
            raise AssertionError(f"prosodyctl register {user}: {r.stdout}{r.stderr}")
        self.users[user] = password

    def jid(self, user):
        return f"{user}@{self.domain}"

    def room_jid(self, room):
        return f"{room}@{self.muc}"

    def start(self):
        self.runs += 1
        self.proc = Proc([PROSODY, "--config", str(self.config)], self.dir / f"stdout-{self.runs}.log")
        wait_for(lambda: not self.proc.alive() or (port_is_bound(self.c2s_port, "tcp")
                                                   and port_is_bound(self.http_port, "tcp")),
                 timeout=15, what="prosody listening")
        if not self.proc.alive():
            raise AssertionError("prosody did not start:\n" + self.output())

    def restart(self):
        self.stop()
        wait_for(lambda: not port_is_bound(self.c2s_port, "tcp"), timeout=10, what="c2s port free")
        self.start()

    def stop(self):
        if self.proc is not None:
            self.proc.stop()

    def output(self):
        text = ""
        for name in ("prosody.log", *[f"stdout-{i}.log" for i in range(1, self.runs + 1)]):
            path = self.dir / name
            if path.exists():
                text += f"--- {name}\n" + path.read_text(errors="replace")[-20000:]
        return text


def start_prosody(tmpdir, users=None, domain="chat.test", c2s_port=None, http_port=None, public_jids=True,
                  stanza_limit=2 * 1024 * 1024):
    """Starts Prosody (see the module's doc) and returns it once both ports listen."""
    return ProsodyServer(tmpdir, users or {}, domain, c2s_port, http_port, public_jids, stanza_limit)
