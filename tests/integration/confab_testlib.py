"""Helpers for Confab's integration tests: start real processes on loopback,
wait for their ports, run SIPp scenarios, analyse recorded audio."""
import base64
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONFAB = os.environ.get("CONFAB_BIN", str(ROOT / "build" / "confab"))
PEERS = Path(os.environ.get("CONFAB_PEERS", str(ROOT / "tests" / "peers")))
SCENARIOS = HERE / "scenarios"


def port_is_bound(port, proto="udp", host="127.0.0.1"):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    if proto == "tcp":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
    try:
        s.bind((host, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition", state=None):
    """Polls `predicate` until it returns a true value, which is returned; after `timeout`
    seconds fails the test naming `what` (and `state()`, the state seen then, if given).
    Tests wait for a state with this instead of sleeping and then asserting it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    seen = f"; state then: {state()!r}" if state else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{seen}")


def poll(fetch, until, timeout=10.0, interval=0.05):
    """Calls `fetch()` until `until(value)` holds or `timeout` passes; returns the last value
    without failing (for a finally block that must still stop the processes; assert after)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value) or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Proc:
    """A background process with its output in a log file; stopped on teardown."""

    def __init__(self, args, log_path, env=None, cwd=None, stdin=False):
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  env=env, cwd=cwd, start_new_session=True)

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        if self.alive():
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        self.log.close()
        return self.p.returncode

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")


class Proxy(Proc):
    def __init__(self, tmp_path, port=5060, db=None, extra=(), name="proxy", tcp=True, binary=None):
        self.port = port
        self.db = Path(db) if db else Path(tmp_path) / "proxy.db"
        args = [binary or CONFAB, "proxy", "--listen", f"udp:127.0.0.1:{port}", "--db", self.db, *extra]
        if tcp:
            args += ["--listen", f"tcp:127.0.0.1:{port}"]
        assert not port_is_bound(port), f"port {port} is already in use"
        super().__init__(args, Path(tmp_path) / f"{name}.log")
        wait_for(lambda: port_is_bound(port) or not self.alive(), what=f"proxy on port {port}")
        assert self.alive(), f"proxy exited:\n{self.output()}"


def render_scenario(scenario, tmp_path, template):
    """Copies a scenario into tmp_path with {{name}} placeholders filled from `template`
    (SIPp substitutes [keys] only inside messages, not in attributes such as response=)."""
    text = (SCENARIOS / scenario).read_text()
    for k, v in (template or {}).items():
        text = text.replace("{{" + k + "}}", str(v))
    left = re.findall(r"\{\{(\w+)\}\}", text)
    assert not left, f"{scenario}: no value for {left}"
    import hashlib
    digest = hashlib.sha1(repr(sorted((template or {}).items())).encode()).hexdigest()[:8]
    out = Path(tmp_path) / f"rendered-{digest}-{scenario}"
    out.write_text(text)
    return out


def sipp_args(scenario, remote, local_port, extra=(), tmp_path=None, template=None):
    if scenario in ("uac", "uas"):
        scen = ["-sn", scenario]
    else:
        scen = ["-sf", str(render_scenario(scenario, tmp_path, template))]
    args = ["sipp", *( [remote] if remote else [] ), *scen, "-i", "127.0.0.1", "-p", str(local_port),
            "-nostdin", "-trace_err"]
    return args + [str(a) for a in extra]


def run_sipp(scenario, remote, local_port, tmp_path, extra=(), timeout=30, name=None, template=None):
    """Runs SIPp to completion; returns (exit code, error log text)."""
    name = name or f"sipp-{Path(scenario).stem}-{local_port}"
    err = Path(tmp_path) / f"{name}.err"
    args = sipp_args(scenario, remote, local_port,
                     [*extra, "-error_file", err, "-timeout", f"{timeout}s", "-timeout_error"], tmp_path, template)
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         timeout=timeout + 15, cwd=tmp_path)
    (Path(tmp_path) / f"{name}.out").write_bytes(out.stdout)
    text = err.read_text(errors="replace") if err.exists() else ""
    return out.returncode, text + out.stdout.decode(errors="replace")[-3000:]


def start_sipp(scenario, remote, local_port, tmp_path, extra=(), timeout=60, name=None, template=None):
    """Starts SIPp in the background (a UAS usually); returns the Proc."""
    name = name or f"sipp-{Path(scenario).stem}-{local_port}"
    err = Path(tmp_path) / f"{name}.err"
    args = sipp_args(scenario, remote, local_port,
                     [*extra, "-error_file", err, "-timeout", f"{timeout}s", "-timeout_error"], tmp_path, template)
    proto = "tcp" if "t1" in [str(a) for a in extra] else "udp"
    assert not port_is_bound(local_port, proto), f"port {local_port} is already in use"
    p = Proc(args, Path(tmp_path) / f"{name}.out", cwd=tmp_path)
    wait_for(lambda: port_is_bound(local_port, proto) or not p.alive(), what=f"sipp on {local_port}")
    return p


def sip_exchange(data, port, proto="udp", timeout=2.0, host="127.0.0.1", local_port=0):
    """Sends raw bytes to a SIP server from `local_port` (the port the Via names) and
    returns the first response (text) or None."""
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", local_port))
        s.settimeout(timeout)
        s.sendto(data, (host, port))
        try:
            return s.recv(65535).decode(errors="replace")
        except socket.timeout:
            return None
        finally:
            s.close()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65535)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace") or None
    except socket.timeout:
        return None
    finally:
        s.close()


def sip_request(data, port, local_port, timeout=3.0, host="127.0.0.1"):
    """Sends a request over UDP from `local_port` and returns the final response
    to it (text) or None; requests arriving meanwhile (the NOTIFYs of a REFER)
    are answered 200 and collected in the returned response's `.requests`."""
    class Reply(str):
        requests = []
    method = data.split(b" ", 1)[0].decode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", local_port))
    s.settimeout(timeout)
    seen = []
    try:
        s.sendto(data, (host, port))
        while True:
            msg = s.recv(65535).decode(errors="replace")
            head = msg.split("\r\n\r\n", 1)[0].split("\r\n")
            if not msg.startswith("SIP/2.0 "):
                seen.append(msg)
                keep = [l for l in head[1:] if l.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
                s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(),
                         (host, port))
                continue
            cseq = next((l for l in head if l.lower().startswith("cseq:")), "")
            if int(msg.split(" ")[1]) >= 200 and cseq.split()[-1] == method:
                r = Reply(msg)
                r.requests = seen
                return r
    except socket.timeout:
        return None
    finally:
        s.close()


def tone_of(path, skip=0.5):
    """Dominant frequency (Hz) and RMS (dBFS) of a 16-bit WAV file."""
    import numpy as np
    with wave.open(str(path), "rb") as w:
        rate, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        w.setpos(min(n, int(skip * rate)))
        raw = w.readframes(n)
    x = np.frombuffer(raw, dtype="<i2").astype(float)[::ch]
    if len(x) == 0:
        return 0.0, float("-inf")
    rms = np.sqrt(np.mean(x * x)) / 32768.0
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spec[0] = 0
    return float(np.argmax(spec)) * rate / len(x), (20 * np.log10(rms) if rms > 0 else float("-inf"))


def have(cmd):
    return shutil.which(cmd) is not None


def tone_snr_db(path, freqs, skip=0.5, bandwidth=25.0):
    """Power within +-bandwidth Hz of `freqs` (and their first harmonics' absence aside)
    against all other power, in dB: how clean a recording of the expected tones is."""
    import numpy as np
    with wave.open(str(path), "rb") as w:
        rate, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        w.setpos(min(n, int(skip * rate)))
        raw = w.readframes(n)
    x = np.frombuffer(raw, dtype="<i2").astype(float)[::ch]
    if len(x) < rate // 10:
        return float("-inf")
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / rate)
    mask = np.zeros_like(spec, dtype=bool)
    for fr in freqs:
        mask |= np.abs(f - fr) <= bandwidth
    signal, noise = spec[mask].sum(), spec[~mask].sum()
    return float(10 * np.log10(signal / noise)) if noise > 0 else float("inf")


class Baresip:
    """A headless baresip from tests/peers/baresip-ua.sh, sending a sine tone."""

    def __init__(self, name, port, freq, registrar=None, volume=None, outbound=None):
        self.name, self.port, self.freq = name, port, freq
        self.ctrl = port + 10000
        self.dir = Path(f"/tmp/baresip-{name}")
        subprocess.run([str(PEERS / "baresip-ua.sh"), "stop", name], capture_output=True)
        shutil.rmtree(self.dir / "rec", ignore_errors=True)
        env = dict(os.environ)
        if volume is not None:
            env["VOLUME"] = str(volume)
        if registrar:
            env["REGISTRAR"] = registrar
        else:
            env.pop("REGISTRAR", None)
        if outbound:
            env["OUTBOUND"] = outbound
        else:
            env.pop("OUTBOUND", None)
        out = subprocess.run([str(PEERS / "baresip-ua.sh"), name, str(port), str(self.ctrl), str(freq)],
                             capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stdout + out.stderr

    def command(self, *args):
        out = subprocess.run([str(PEERS / "baresip-ctl.sh"), str(self.ctrl), *args], capture_output=True, text=True,
                             timeout=10)
        return out.returncode, out.stdout

    def log(self):
        return (self.dir / "log").read_text(errors="replace")

    def recordings(self):
        return sorted((self.dir / "rec").glob("*-dec.wav"))

    def stop(self):
        subprocess.run([str(PEERS / "baresip-ua.sh"), "stop", self.name], capture_output=True)


class Mixer(Proc):
    def __init__(self, tmp_path, port=5090, rtp="20000-20999", http_port=5091, extra=(), name="mixer"):
        self.port, self.http_port = port, http_port
        assert not port_is_bound(port), f"port {port} is already in use"
        super().__init__([CONFAB, "mixer", "--listen", f"127.0.0.1:{port}", "--rtp-ports", rtp,
                          "--http", f"127.0.0.1:{http_port}", *extra], Path(tmp_path) / f"{name}.log")
        wait_for(lambda: port_is_bound(port) or not self.alive(), what=f"mixer on port {port}")
        assert self.alive(), f"mixer exited:\n{self.output()}"

    def mixes(self):
        import json
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/mixes", timeout=5) as r:
            return json.loads(r.read())["mixes"]

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        return {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l and not l.startswith("#")}


class Conference(Proc):
    """`confab conference` with its admin API."""

    def __init__(self, tmp_path, port=5080, mixer="sip:127.0.0.1:5090", admin_port=5081, token="secret",
                 extra=(), name="conference", binary=None):
        self.port, self.admin_port, self.token = port, admin_port, token
        assert not port_is_bound(port), f"port {port} is already in use"
        token_args = []
        if token:  # as an operator should: from a private file, not the command line
            token_file = Path(tmp_path) / f"{name}-admin-token"
            token_file.write_text(token + "\n")
            token_file.chmod(0o600)
            token_args = ["--admin-token-file", token_file]
        super().__init__([binary or CONFAB, "conference", "--listen", f"udp:127.0.0.1:{port}", "--mixer", mixer,
                          "--admin", f"127.0.0.1:{admin_port}", *token_args, *extra],
                         Path(tmp_path) / f"{name}.log")
        wait_for(lambda: port_is_bound(port) or not self.alive(), what=f"conference server on port {port}")
        wait_for(lambda: port_is_bound(admin_port, "tcp") or not self.alive(), what="admin API")
        assert self.alive(), f"conference server exited:\n{self.output()}"

    def admin(self, method, path, body=None, token=None):
        """(status, parsed JSON) of an admin API request."""
        import json
        import urllib.error
        import urllib.request
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token if token is None else token}")
        if data:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def conferences(self):
        status, body = self.admin("GET", "/conferences")
        assert status == 200, body
        return {c["id"]: c for c in body["conferences"]}


class Phone(Proc):
    """`confab phone` with commands on stdin and events parsed from its output."""

    def __init__(self, tmp_path, name, port, *args, rtp=None, env=None, host="127.0.0.1"):
        self.name, self.port = name, port
        self.record = Path(tmp_path) / f"{name}.wav"
        rtp = rtp or f"{30000 + (port % 100) * 40}-{30000 + (port % 100) * 40 + 39}"
        assert not port_is_bound(port), f"port {port} is already in use"
        super().__init__([CONFAB, "phone", "--listen", f"{host}:{port}", "--record", self.record,
                          "--rtp-ports", rtp, *args], Path(tmp_path) / f"{name}.log", stdin=True, env=env)
        self.wait_event("ready")

    def send(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def events(self):
        out = []
        for line in self.output().splitlines():
            if not line.startswith("event="):
                continue
            fields = dict(re.findall(r'(\w[\w-]*)=("[^"]*"|\S+)', line))
            out.append({k: v.strip('"') for k, v in fields.items()})
        return out

    def events_named(self, name):
        return [e for e in self.events() if e.get("event") == name]

    def wait_event(self, name, timeout=10, **match):
        found = []

        def seen():
            found[:] = [e for e in self.events()
                        if e.get("event") == name and all(e.get(k) == str(v) for k, v in match.items())]
            return bool(found) or not self.alive()
        wait_for(seen, timeout=timeout, what=f"{self.name}: event {name} {match}")
        assert found, f"{self.name} exited before event {name}:\n{self.output()[-3000:]}"
        return found[-1]

    def epoch_ms(self):
        return int(self.wait_event("ready")["epoch_ms"])

    def clock_ms(self):
        """Now, on the recording's time axis (the axis of the events' t_ms)."""
        return int(time.time() * 1000) - self.epoch_ms()

    def record_until(self, t_ms, timeout=30):
        """Waits until the recording reaches `t_ms` (so an analysis of it has its audio)."""
        wait_for(lambda: self.clock_ms() >= t_ms or not self.alive(), timeout=timeout,
                 what=f"{self.name}: recording to reach {t_ms} ms")

    def quit(self):
        if self.alive():
            try:
                self.send("quit")
                self.p.wait(5)
            except Exception:
                pass
        return self.stop()


def tone_power(samples, freq, rate):
    """Goertzel power of one frequency in a block of samples (numpy array)."""
    import numpy as np
    k = 2 * np.cos(2 * np.pi * freq / rate)
    s1 = s2 = 0.0
    for v in samples:
        s = v + k * s1 - s2
        s2, s1 = s1, s
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / (len(samples) ** 2)


def read_wav(path):
    import numpy as np
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
    return x, rate


def tone_levels_db(x, rate, freqs, window_ms=10):
    """Per window of `window_ms`, the level (dB, relative to full scale) of each of
    `freqs`, measured by projecting onto sine/cosine at that frequency."""
    import numpy as np
    n = int(rate * window_ms / 1000)
    count = len(x) // n
    t = np.arange(n) / rate
    out = {}
    for f in freqs:
        c, s = np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)
        blocks = x[:count * n].reshape(count, n)
        amp = 2 * np.sqrt((blocks @ c) ** 2 + (blocks @ s) ** 2) / n / 32768.0
        out[f] = 20 * np.log10(np.maximum(amp, 1e-9))
    return out


def longest_run(mask):
    """Length of the longest run of True in a boolean sequence."""
    best = cur = 0
    for m in mask:
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


def ulaw(sample):
    """G.711 mu-law encoding of one 16-bit sample (ITU-T G.711)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(int(sample)), clip) + bias
    exponent, mask = 7, 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def write_rtp_pcap(path, freq, seconds, loss=0.0, jitter_ms=0.0, seed=1, amplitude=0.3):
    """A pcap of PCMU RTP carrying a `freq` Hz tone for SIPp's play_pcap_audio, with
    `loss` of the packets dropped and each sent up to `jitter_ms` late (so some
    arrive out of order). Returns (sent, dropped)."""
    import math
    import random
    import struct
    rng = random.Random(seed)
    packets = []
    dropped = 0
    for i in range(int(seconds * 50)):
        if rng.random() < loss:
            dropped += 1
            continue
        payload = bytes(ulaw(amplitude * 32767 * math.sin(2 * math.pi * freq * (i * 160 + n) / 8000))
                        for n in range(160))
        rtp = struct.pack("!BBHII", 0x80, 0, i & 0xFFFF, (i * 160) & 0xFFFFFFFF, 0x1234ABCD) + payload
        packets.append((i * 0.020 + rng.uniform(0, jitter_ms / 1000.0), rtp))
    packets.sort(key=lambda p: p[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, rtp in packets:
            udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
            frame = b"\x00" * 12 + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    return len(packets), dropped


class ApiClient:
    """A client of `confab service`'s local API (XML messages over a byte stream)."""

    def __init__(self, path=None, tcp_port=None):
        import socket
        if tcp_port:
            self.s = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
        else:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(5)
            self.s.connect(str(path))
        self._reset_parser()
        self.inbox = []
        self.seen = []
        self.closed = False
        self.tags = 0

    def _reset_parser(self):
        import xml.etree.ElementTree as ET
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed("<stream>")
        self.depth = 0

    def send_raw(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def send(self, xml):
        self.send_raw(xml + "\n")

    def next(self, timeout=5.0):
        """The next message (an ElementTree element), or None on timeout / end of stream."""
        import socket
        deadline = time.time() + timeout
        while not self.inbox and not self.closed:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.inbox.append(el)
        return self.inbox.pop(0) if self.inbox else None

    def call(self, xml, timeout=20.0):
        """Sends a request (a tag is added) and returns its <Result>; events seen meanwhile stay queued."""
        import xml.etree.ElementTree as ET
        el = ET.fromstring(xml)
        self.tags += 1
        tag = f"py{self.tags}"
        el.set("tag", tag)
        self.send(ET.tostring(el, encoding="unicode"))
        deadline = time.time() + timeout
        kept = []
        try:
            while time.time() < deadline:
                m = self.next(deadline - time.time())
                if m is None:
                    break
                if m.tag == "Result" and m.get("tag") in (tag, None):
                    return m
                kept.append(m)
        finally:
            self.inbox[:0] = kept
        raise AssertionError(f"no result for {xml} within {timeout}s")

    def events(self):
        """Every message received so far outside call(): those waiting are read (briefly) and kept."""
        while (m := self.next(0.05)) is not None:
            self.seen.append(m)
        return self.seen

    def close(self):
        self.s.close()


class WebSocket:
    """A minimal RFC 6455 client: text messages out (masked), text, ping and close in."""

    def __init__(self, port=8081, path="/ws", timeout=5.0, origin=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = f"Origin: {origin}\r\n" if origin else ""
        self.s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        self.last = {}  # the last message of each type read by next()
        self.status = head.split(b"\r\n", 1)[0].decode()
        self.closed = None  # (code, reason) once the server closed
        if " 101 " not in self.status + " ":
            self.closed = (0, head.decode(errors="replace"))
            return
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert f"sec-websocket-accept: {accept.decode()}".lower() in head.decode().lower(), head

    def frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, message):
        self.send_text(json.dumps(message))

    def send_text(self, text):
        self.frame(0x1, text.encode() if isinstance(text, str) else text)

    def _read(self, n, deadline):
        while len(self.buf) < n:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed without a close frame")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=5.0):
        """The next message (a dict), or None when the server closed (see .closed) or on timeout."""
        deadline = time.monotonic() + timeout
        try:
            while self.closed is None:
                b0, b1 = self._read(2, deadline)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2, deadline))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8, deadline))[0]
                payload = self._read(n, deadline)
                opcode = b0 & 0x0F
                if opcode == 0x1:
                    return json.loads(payload)
                if opcode == 0x9:
                    self.frame(0xA, payload)
                elif opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    self.closed = (code, payload[2:].decode(errors="replace"))
        except (socket.timeout, TimeoutError):
            return None
        except (ConnectionError, OSError):
            self.closed = self.closed or (1006, "")
        return None

    def next(self, type_, timeout=5.0, until=lambda m: True):
        """The next message of `type_` for which `until` holds (others are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.recv(deadline - time.monotonic())
            if m is None and self.closed:
                raise AssertionError(f"closed {self.closed} while waiting for {type_}")
            if m:
                self.last[m.get("type")] = m
            if m and m.get("type") == type_ and until(m):
                return m
        raise AssertionError(f"no {type_} message within {timeout}s")

    def wait_closed(self, timeout=5.0):
        """The error message sent before the server closed (or None), once it has closed."""
        deadline, error = time.monotonic() + timeout, None
        while self.closed is None and time.monotonic() < deadline:
            m = self.recv(deadline - time.monotonic())
            if m and m.get("type") == "error":
                error = m
        assert self.closed, "the server did not close the connection"
        return error

    def close(self):
        self.s.close()


class Service(Proc):
    """`confab service` with its runtime files (socket, token) under tmp_path."""

    def __init__(self, tmp_path, sip_port=5062, devices=(), default_device=None, api_tcp=None, web_api=None, extra=(),
                 name="service", binary=None, env=None, config=None):
        """`config`: text of a service.toml (written beside the log and passed with --config)."""
        self.runtime = Path(tmp_path) / f"{name}-run"
        self.runtime.mkdir(mode=0o700, exist_ok=True)
        self.socket = self.runtime / "confab" / "service.sock"
        self.sip_port = sip_port
        args = [binary or CONFAB, "service", "--sip", f"127.0.0.1:{sip_port}",
                "--identity", f"sip:alice@127.0.0.1:{sip_port}", "--api-tcp", api_tcp or "off",
                "--web-api", web_api or "off", "--origins-file", str(self.runtime / "approved-origins")]
        for d in devices:
            args += ["--device", d]
        if default_device:
            args += ["--default-device", default_device]
        if config is not None:
            self.config_path = Path(tmp_path) / f"{name}.toml"
            self.config_path.write_text(config)
            args += ["--config", self.config_path]
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime), XDG_CONFIG_HOME=str(self.runtime / "config"),
                   **(env or {}))
        self.env = env
        assert not port_is_bound(sip_port), f"port {sip_port} is already in use"
        super().__init__([*args, *extra], Path(tmp_path) / f"{name}.log", env=env)
        wait_for(lambda: self.socket.exists() or not self.alive(), what="service API socket")
        assert self.alive(), f"service exited:\n{self.output()}"

    def client(self):
        return ApiClient(self.socket)

    def chooser_url(self):
        return (self.runtime / "confab" / "chooser-url").read_text().strip()

    def cli(self, *args, timeout=30):
        """Runs a `confab` client command against this service: (exit code, stdout, stderr)."""
        r = subprocess.run([CONFAB, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def cli_proc(self, name, *args):
        """Starts a `confab` client command against this service in the background: a Proc
        (its stdout and stderr in <name>.log beside the service's log)."""
        return Proc([CONFAB, *args], self.log_path.parent / f"{name}.log", env=self.env)


class Web(Proc):
    """`confab web` serving `site` on 127.0.0.1:`port`; pages' conferences are at `conference_host`."""

    def __init__(self, tmp_path, site, *extra, port=8080, conference_host="127.0.0.1:5080", sip_port=5078,
                 name="web"):
        self.port = port
        assert not port_is_bound(port, "tcp"), f"port {port} is already in use"
        super().__init__([CONFAB, "web", "--listen", f"127.0.0.1:{port}", "--site", site, "--conference-host",
                          conference_host, "--sip", f"127.0.0.1:{sip_port}", *extra], Path(tmp_path) / f"{name}.log")
        wait_for(lambda: port_is_bound(port, "tcp") or not self.alive(), what="web site")
        assert self.alive(), f"web site exited:\n{self.output()}"

    def request(self, target, method="GET", headers=None, body=None):
        """(status, headers with lower-case names, body bytes) of one request sent as written, whatever its status."""
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                c.putheader(k, v)
            if body is not None:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def viewer(self, page):
        """A roster WebSocket of `page` (e.g. "/films/dune")."""
        return WebSocket(self.port, f"/_confab/roster?path={page}")


def tls_certificate(tmp_path, ip="127.0.0.1"):
    """A CA and a server certificate for `ip` (an IP subjectAltName) that it signed, made with
    the openssl command line in tmp_path/tls: (chain file, key file, spki), spki being the
    base64 SHA-256 of the server certificate's SubjectPublicKeyInfo, which Chromium trusts with
    --ignore-certificate-errors-spki-list."""
    d = Path(tmp_path) / "tls"
    d.mkdir(exist_ok=True)

    def openssl(*args, stdin=None):
        r = subprocess.run(["openssl", *args], cwd=d, input=stdin, capture_output=True, timeout=30)
        assert r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr.decode(errors='replace')}"
        return r.stdout

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Confab test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={ip}")
    (d / "server.ext").write_text(f"subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\n"
                                  "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
    (d / "chain.pem").write_bytes((d / "server.crt").read_bytes() + (d / "ca.crt").read_bytes())
    pub = openssl("x509", "-in", "server.crt", "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", stdin=pub)
    spki = openssl("dgst", "-sha256", "-binary", stdin=der)
    return d / "chain.pem", d / "server.key", base64.b64encode(spki).decode()


class TlsProxy:
    """TLS on 127.0.0.1:`port` in front of the plain TCP server on 127.0.0.1:`to` (HTTPS in front
    of `confab web`): after the handshake it relays bytes both ways as they come, so WebSocket
    upgrades pass through. Runs an asyncio loop in a thread of its own; stop() ends it."""

    def __init__(self, port, to, cert, key):
        import asyncio
        import ssl
        import threading
        self.port, self.to = port, to
        self.ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ssl.load_cert_chain(cert, key)
        self.asyncio = asyncio
        self.loop = asyncio.new_event_loop()
        assert not port_is_bound(port, "tcp"), f"port {port} is already in use"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tasks = set()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.accepted, "127.0.0.1", port, ssl=self.ssl, reuse_address=True),
            self.loop).result(10)

    async def accepted(self, client_r, client_w):
        task = self.asyncio.current_task()
        self.tasks.add(task)
        try:
            server_r, server_w = await self.asyncio.open_connection("127.0.0.1", self.to)
        except OSError:
            client_w.close()
            self.tasks.discard(task)
            return

        async def relay(r, w, eof):
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
                eof()
            except (OSError, self.asyncio.IncompleteReadError):
                server_w.close()
                client_w.close()

        def browser_done():  # the browser finished sending: tell the server, keep its answer coming
            if server_w.can_write_eof():
                server_w.write_eof()

        def server_done():  # the server closed: so does the connection to the browser
            client_w.close()
            server_w.close()

        try:
            await self.asyncio.gather(relay(client_r, server_w, browser_done), relay(server_r, client_w, server_done))
        except self.asyncio.CancelledError:  # stop(): the connection ends with the proxy
            pass
        finally:
            client_w.close()
            server_w.close()
            self.tasks.discard(task)

    def stop(self):
        async def close():
            self.server.close()
            for t in list(self.tasks):
                t.cancel()
            await self.asyncio.gather(*self.tasks, return_exceptions=True)
        if self.thread.is_alive():
            self.asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


# ---- shared by the conference and service tests ----

def hears(path, others, own, skip=1.5, keep=2.5, min_snr=25.0):
    """Asserts a recording holds every tone in `others` and not `own`."""
    import numpy as np
    x, rate = read_wav(path)
    x = x[int(skip * rate):int((skip + keep) * rate)]
    assert len(x) > rate, f"{path}: recording too short"
    levels = {f: float(np.median(v)) for f, v in tone_levels_db(x, rate, list(others) + [own], 100).items()}
    for f in others:
        assert levels[f] > -40, f"{path.name}: does not hear {f} Hz: {levels}"
    assert levels[own] < min(levels[f] for f in others) - 25, f"{path.name} hears itself: {levels}"
    part = Path(str(path) + ".part.wav")
    with wave.open(str(part), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    snr = tone_snr_db(part, list(others), skip=0)
    assert snr >= min_snr, f"{path.name}: SNR {snr:.1f} dB"


def stop_all(*procs):
    for p in procs:
        if p is None:
            continue
        if isinstance(p, Phone):
            p.quit()
        elif isinstance(p, Baresip):
            p.stop()
        else:
            p.stop()


def switch_gap_ms(record, at_ms, old, new):
    """(gap in ms between the last 10 ms window with the `old` tone and the first
    with the `new` one after `at_ms`, ms from `at_ms` to the new tone)."""
    x, rate = read_wav(record)
    levels = tone_levels_db(x, rate, [old, new], window_ms=10)
    at = at_ms // 10
    old_last = max(i for i in range(len(levels[old])) if levels[old][i] > -30)
    new_first = next(i for i in range(at, len(levels[new])) if levels[new][i] > -30)
    assert old_last > at - 5, "the old conference went silent before the move"
    return (new_first - old_last - 1) * 10, (new_first - at) * 10


def start(procs, proc):
    procs.append(proc)
    return proc


BROWSER_SCRIPTS = ROOT / "tests" / "browser"


class BrowserDriver:
    """A tests/browser/*.mjs driver in the background: its output lines as they come, commands on its
    stdin. Every driver bounds its own waits; `line` bounds the reading too, so a test cannot hang."""

    def __init__(self, script, *args, log_path=None):
        self.p = subprocess.Popen(["node", str(BROWSER_SCRIPTS / script), *map(str, args)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.log_path = log_path
        self.queue = queue.Queue()  # its output lines, then None at its end
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.queue.put(line)
        self.queue.put(None)

    def line(self, prefix, timeout=120):
        """What follows `prefix` on the next line that starts with it; fails on a FAILED line, the
        driver's end, or after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no '{prefix}' from the browser driver in {timeout} s:\n" + self.log())
            if line is None:
                raise AssertionError("the browser driver ended:\n" + self.log())
            self.lines.append(line)
            if line.startswith(prefix):
                return line[len(prefix):].strip()
            assert not line.startswith("FAILED"), self.log()

    def send(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def ask(self, command, answer, timeout=120):
        self.send(command)
        return self.line(answer, timeout)

    def finish(self):
        """Tells the driver it is done; it must end cleanly."""
        self.send("done")
        assert self.p.wait(30) == 0, self.log()

    def close(self):
        """Lets the driver close its browsers (killed if it cannot within 30 s)."""
        try:
            self.send("done")
            self.p.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def log(self):
        text = "".join(self.lines)
        if self.log_path:
            Path(self.log_path).write_text(text)
        return text

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def open_chooser(url, device):
    """Starts drive.mjs choose on the chooser page; returns once the page is subscribed to choices
    (drive.mjs gives up by itself within its timeouts, so reading its lines cannot hang)."""
    page = subprocess.Popen(["node", str(BROWSER_SCRIPTS / "drive.mjs"), "choose", url, device],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in page.stdout:
        lines.append(line)
        if line.startswith("chooser connected"):
            return page
    page.wait()
    raise AssertionError("the chooser page did not connect: " + "".join(lines))
