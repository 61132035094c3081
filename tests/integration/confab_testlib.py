"""Helpers for Confab's integration tests: start real processes on loopback,
wait for their ports, run SIPp scenarios, analyse recorded audio."""
import os
import re
import shutil
import signal
import socket
import subprocess
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


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Proc:
    """A background process with its output in a log file; stopped on teardown."""

    def __init__(self, args, log_path, env=None, cwd=None):
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
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
    out = Path(tmp_path) / f"rendered-{'-'.join(str(v) for v in (template or {}).values())}-{scenario}"
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

    def __init__(self, name, port, freq, registrar=None):
        self.name, self.port, self.freq = name, port, freq
        self.ctrl = port + 10000
        self.dir = Path(f"/tmp/baresip-{name}")
        subprocess.run([str(PEERS / "baresip-ua.sh"), "stop", name], capture_output=True)
        shutil.rmtree(self.dir / "rec", ignore_errors=True)
        env = dict(os.environ)
        if registrar:
            env["REGISTRAR"] = registrar
        else:
            env.pop("REGISTRAR", None)
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
