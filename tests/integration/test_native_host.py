"""`confab native-host` over stdio, driven from Python as the browser drives it
(32-bit native-endian length + JSON): relaying the call commands to a real
`confab service`, refusing the others (403), and the bad cases: malformed JSON,
oversized and truncated frames, a missing or vanished service, end of input.
Every read is bounded; the host must end by itself. Also `confab install-desktop`'s
native messaging host manifests, for the extension's fixed id."""
import base64
import hashlib
import json
import os
import select
import struct
import subprocess
import time
from pathlib import Path

from confab_testlib import CONFAB, ROOT, Service, start, stop_all

EXTENSION = ROOT / "extension"
CHROMIUM_ID = "iblkjdlcnnnhdjmlfaiejalbmcbcfkgo"


class Host:
    """`confab native-host` started as Chromium starts it, with the service's environment."""

    def __init__(self, tmp_path, env, name="host"):
        self.log = open(Path(tmp_path) / f"{name}.log", "wb")
        self.p = subprocess.Popen([CONFAB, "native-host", f"chrome-extension://{CHROMIUM_ID}/"], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.log_path = Path(tmp_path) / f"{name}.log"

    def write(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, message):
        body = json.dumps(message).encode() if not isinstance(message, bytes) else message
        self.write(struct.pack("=I", len(body)) + body)

    def _read(self, n, deadline):
        data = b""
        while len(data) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer from the host in time; its log:\n{self.log_path.read_text()}"
            ready, _, _ = select.select([self.p.stdout], [], [], left)
            if ready:
                chunk = os.read(self.p.stdout.fileno(), n - len(data))
                if not chunk:
                    return None
                data += chunk
        return data

    def recv(self, timeout=10.0):
        """The next frame as JSON; None at the end of the host's output."""
        deadline = time.monotonic() + timeout
        prefix = self._read(4, deadline)
        if prefix is None:
            return None
        (length,) = struct.unpack("=I", prefix)
        assert length <= 1024 * 1024, f"frame of {length} bytes from the host: over the 1 MB limit"
        return json.loads(self._read(length, deadline))

    def call(self, message, timeout=10.0):
        self.send(message)
        return self.recv(timeout)

    def ends(self, timeout=5.0):
        """The host's exit status once it ends by itself (within `timeout`)."""
        return self.p.wait(timeout)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.log.close()


def host_env(tmp_path, run_dir="no-service-run"):
    """The environment the browser would give the host: the user's runtime and config dirs
    (those of Service(tmp_path, name=...) for run_dir "<name>-run")."""
    run = Path(tmp_path) / run_dir
    run.mkdir(mode=0o700, exist_ok=True)
    return dict(os.environ, XDG_RUNTIME_DIR=str(run), XDG_CONFIG_HOME=str(run / "config"))


def test_call_commands_are_relayed_and_the_others_refused(tmp_path):
    procs = []
    try:
        # The conference server is a flag of the running service, in no file the host could read.
        env = host_env(tmp_path, "service-run")
        svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], default_device="desk",
                                   extra=["--conference-server", "conf.example.com:5080"]))
        host = Host(tmp_path, env)
        try:
            r = host.call({"type": "Settings", "tag": "s"})
            assert r == {"type": "Result", "tag": "s", "status": "ok", "code": "200", "reason": "OK",
                         "conference_server": "conf.example.com:5080"}, r  # the service's answer
            r = host.call({"type": "Devices", "tag": "d"})
            assert r["status"] == "ok" and r["tag"] == "d", r
            assert r["children"][0]["children"][0]["id"] == "desk", r  # the service's own answer, relayed
            for name in ("State", "Tunnel", "Approve", "Choose", "Bogus"):
                r = host.call({"type": name, "tag": name})
                assert (r["code"], r["tag"]) == ("403", name), r
            r = host.call({"type": "Subscribe", "events": "choices", "tag": "c"})
            assert r["code"] == "403", r
            r = host.call({"type": "Subscribe", "events": "calls", "tag": "e"})
            assert r["status"] == "ok", r
            # Malformed JSON: a 400 and the host goes on with the next frame.
            for bad in (b"{not json", b"[]", b'"Join"', b"", b'{"id":"sip:x@y"}', "{\"type\":\"\u00e9".encode()):
                r = host.call(bad)
                assert r["code"] == "400" and "malformed request" in r["reason"], (bad, r)
            assert host.call({"type": "Calls", "tag": "k"})["status"] == "ok"
            # The service goes away: the next request says so; the host stays up.
            svc.stop()
            r = host.call({"type": "Calls", "tag": "gone"})
            assert r["code"] == "503" and r["tag"] == "gone", r
            r = host.call({"type": "Calls", "tag": "again"})
            assert r["code"] == "503" and "not running" in r["reason"], r
            host.p.stdin.close()
            assert host.ends() == 0
        finally:
            host.close()
        log = host.log_path.read_text()
        assert f"started for chrome-extension://{CHROMIUM_ID}/" in log, log
        assert "<State> refused" in log and "malformed request" in log, log
    finally:
        stop_all(*reversed(procs))


def test_no_service_is_a_clear_error(tmp_path):
    host = Host(tmp_path, host_env(tmp_path))
    try:
        r = host.call({"type": "Join", "id": "sip:room@127.0.0.1:5080", "tag": "1"})
        assert r["code"] == "503" and "not running" in r["reason"] and r["tag"] == "1", r
        r = host.call({"type": "Settings"})
        assert r["code"] == "503", r  # the running service's settings, none without it
        host.p.stdin.close()
        assert host.recv() is None and host.ends() == 0
    finally:
        host.close()


def test_an_oversized_frame_is_refused_and_the_host_ends(tmp_path):
    host = Host(tmp_path, host_env(tmp_path))
    try:
        host.write(struct.pack("=I", 64 * 1024 * 1024 + 1))  # over the limit: refused before any body
        r = host.recv()
        assert r["code"] == "413" and "64 MiB" in r["reason"], r
        assert host.recv() is None and host.ends() == 1
    finally:
        host.close()


def test_a_truncated_frame_is_an_error_and_the_host_ends(tmp_path):
    host = Host(tmp_path, host_env(tmp_path))
    try:
        host.write(struct.pack("=I", 100) + b'{"type":"Calls"')
        host.p.stdin.close()
        r = host.recv()
        assert r["code"] == "400" and "truncated" in r["reason"] and "15 of its 100" in r["reason"], r
        assert host.recv() is None and host.ends() == 1
    finally:
        host.close()


def test_a_half_length_prefix_and_a_silent_end(tmp_path):
    host = Host(tmp_path, host_env(tmp_path))
    try:
        host.write(b"\x10\x00")
        host.p.stdin.close()
        assert host.recv()["code"] == "400"
        assert host.ends() == 1
    finally:
        host.close()
    host = Host(tmp_path, host_env(tmp_path), name="host2")
    try:
        host.p.stdin.close()  # the browser closes at once: exit 0, nothing written
        assert host.recv() is None and host.ends() == 0
    finally:
        host.close()


def test_a_large_frame_within_the_limit_is_read_and_answered(tmp_path):
    """A 2 MiB request (within the browser's 64 MiB) is read whole; its answer is a short 400."""
    host = Host(tmp_path, host_env(tmp_path))
    try:
        r = host.call(json.dumps({"type": "Join", "id": "sip:" + "a" * (2 << 20) + "@x"}).encode())
        assert r["code"] == "400", r  # over the API reader's limits
        assert host.call({"type": "Calls"})["code"] == "503"  # read whole, the next one answered
    finally:
        host.close()


def chromium_id_of(manifest):
    """Chromium's id of an extension: the SHA-256 of its public key, first 32 hex digits as a-p."""
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def test_install_desktop_writes_host_manifests_for_the_extensions_id_only(tmp_path):
    manifest = json.loads((EXTENSION / "manifest.json").read_text())
    assert chromium_id_of(manifest) == CHROMIUM_ID
    gecko_id = manifest["browser_specific_settings"]["gecko"]["id"]
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME="", XDG_DATA_HOME="")
    r = subprocess.run([CONFAB, "install-desktop"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    script = home / ".local/share/confab/native-host"
    assert os.access(script, os.X_OK)
    for d in (".config/chromium/NativeMessagingHosts", ".config/google-chrome/NativeMessagingHosts"):
        m = json.loads((home / d / "org.confab.native_host.json").read_text())
        assert m["name"] == "org.confab.native_host" and m["type"] == "stdio" and m["path"] == str(script)
        assert m["allowed_origins"] == [f"chrome-extension://{CHROMIUM_ID}/"] and "allowed_extensions" not in m
    m = json.loads((home / ".mozilla/native-messaging-hosts/org.confab.native_host.json").read_text())
    assert m["allowed_extensions"] == [gecko_id] and m["path"] == str(script) and "allowed_origins" not in m
    # The script is what the browser runs: with the caller's origin it is `confab native-host`.
    body = json.dumps({"type": "Settings"}).encode()
    p = subprocess.run([script, f"chrome-extension://{CHROMIUM_ID}/"], input=struct.pack("=I", len(body)) + body,
                       env=host_env(tmp_path), capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr
    (length,) = struct.unpack("=I", p.stdout[:4])
    assert json.loads(p.stdout[4:4 + length])["code"] == "503"  # no service here: its answer, relayed
    assert b"started for chrome-extension://" + CHROMIUM_ID.encode() in p.stderr
