"""confab service's device kinds beyond a SIP URI, with real peers on loopback:
softphones the service launches on demand and drives through their control
interfaces (baresip's ctrl_tcp, `confab phone`'s stdin), a PSTN number through
a SIPp gateway, and an HTTP click-to-dial phone. Audio is checked by content.

Ports (other suites run at the same time): mixer 7090/7091 (RTP 43000-43999),
conference 7080/7081, service 7062, confab phones 7100-7199 (RTP 44000-44999),
SIPp 7200-7299, softphones 7300-7399, HTTP 7500."""
import json
import os
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from confab_testlib import (CONFAB, Conference, Mixer, Phone, Service, hears, have, start, start_sipp, stop_all,
                            wait_for)

CONF = "127.0.0.1:7080"
ME = "sip:alice@127.0.0.1:7062"


def network(tmp_path, procs):
    """A mixer, a conference server and phone a (500 Hz) in room1: (conference, phone a)."""
    start(procs, Mixer(tmp_path, port=7090, rtp="43000-43999", http_port=7091))
    conf = start(procs, Conference(tmp_path, port=7080, mixer="sip:127.0.0.1:7090", admin_port=7081))
    a = start(procs, Phone(tmp_path, "a", 7100, "--tone", "500", "--volume", "0.2", "--from", "sip:a@example.com",
                           "--dial", f"sip:room1@{CONF}", rtp="44000-44039"))
    return conf, a


def participants(conf, room):
    return conf.conferences().get(room, {}).get("participants", [])


def pid_of(svc, device):
    path = svc.runtime / "confab" / "devices" / device / "pid"
    return int(path.read_text()) if path.exists() else None


def running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie no one reaped yet does not count
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cmdline(pid):
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


def recording_s(phone):
    return (int(time.time() * 1000) - phone.epoch_ms()) / 1000


def join_twice_then_shutdown(tmp_path, procs, svc, conf, device, a):
    """Join -> the program starts; Hangup; Join again -> the same process; shutdown -> it stops.
    Returns (pid, seconds on a's recording when the second call was up)."""
    c = svc.client()
    r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="{device}"/></Join>', timeout=30)
    assert r.get("status") == "ok" and r.get("mode") == "loop", r.attrib
    pid = pid_of(svc, device)
    assert pid and running(pid), "the softphone was not started"
    wait_for(lambda: len(participants(conf, "room1")) == 2, what="the softphone in room1")
    assert c.call("<Hangup/>").get("status") == "ok"
    wait_for(lambda: len(participants(conf, "room1")) == 1, what="the softphone left room1")
    r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="{device}"/></Join>', timeout=30)
    assert r.get("status") == "ok", r.attrib
    assert pid_of(svc, device) == pid and running(pid), "the second Join did not reuse the running softphone"
    wait_for(lambda: len(participants(conf, "room1")) == 2, what="the softphone back in room1")
    joined = recording_s(a)
    time.sleep(4)
    return pid, joined


def test_baresip_softphone_launched_on_demand_reused_and_stopped(tmp_path):
    if not have("baresip") or not have("sox"):
        pytest.skip("needs baresip-core and sox")
    procs = []
    tone = tmp_path / "dvbare-tone.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(tone),
                    "synth", "120", "sine", "1300", "vol", "0.2"], check=True)
    rec = tmp_path / "dvbare-rec"
    rec.mkdir()
    config = f"""
[devices.dvbare]
kind = "softphone"
program = "baresip"
sip_port = "7300"
ctrl_port = "7302"
rtp_ports = "44100-44119"
audio_source = "aufile,{tone}"
audio_player = "aubridge,dvbare"
record_dir = "{rec}"
sample_rate = "8000"
channels = "1"
codecs = "PCMU"
"""
    pid = None
    try:
        conf, a = network(tmp_path, procs)
        svc = start(procs, Service(tmp_path, sip_port=7062, config=config))
        devices = svc.client().call("<Devices/>").find("Devices")
        assert [(d.get("id"), d.get("kind"), d.get("uri")) for d in devices] == \
            [("dvbare", "softphone", "sip:confab@127.0.0.1:7300")]
        assert pid_of(svc, "dvbare") is None, "started before any call"
        pid, joined = join_twice_then_shutdown(tmp_path, procs, svc, conf, "dvbare", a)
        assert "baresip" in cmdline(pid)
        svc.stop()
        assert not running(pid), "the service's shutdown left baresip running"
    finally:
        if pid and running(pid):
            os.kill(pid, 9)
        stop_all(*reversed(procs))
    dumps = sorted(rec.glob("*-dec.wav"), key=lambda p: p.stat().st_mtime)
    assert dumps, "baresip recorded nothing"  # one per call, named by the second it started (may coincide)
    hears(dumps[-1], [500], 1300)  # the softphone hears the phone ...
    hears(a.record, [1300], 500, skip=joined + 0.5, keep=2.5)  # ... and the phone the softphone


def test_confab_phone_softphone_and_hangup_through_its_control_interface(tmp_path):
    procs = []
    soft_rec = tmp_path / "dvphone.wav"
    config = f"""
[devices.dvphone]
kind = "softphone"
program = "confab-phone"
sip_port = 7310
rtp_ports = "44200-44239"
args = "--tone 1300 --volume 0.2 --record {soft_rec}"
"""
    pid = None
    try:
        conf, a = network(tmp_path, procs)
        svc = start(procs, Service(tmp_path, sip_port=7062, config=config))
        pid, joined = join_twice_then_shutdown(tmp_path, procs, svc, conf, "dvphone", a)
        assert "phone --listen 127.0.0.1:7310 --auto-answer" in cmdline(pid)
        # A stray call reaches the softphone directly; when the service hangs up its own call,
        # the softphone is told through its stdin to hang up what it still holds.
        stray = start(procs, Phone(tmp_path, "stray", 7102, "--dial", "sip:confab@127.0.0.1:7310", rtp="44040-44079"))
        stray.wait_event("answered")
        assert svc.client().call("<Hangup/>").get("status") == "ok"
        stray.wait_event("terminated", timeout=5)
        events = (svc.runtime / "confab" / "devices" / "dvphone" / "events.log").read_text()
        assert "event=status" in events and "calls=1" in events, events
        svc.stop()
        assert not running(pid), "the service's shutdown left the phone running"
    finally:
        if pid and running(pid):
            os.kill(pid, 9)
        stop_all(*reversed(procs))
    hears(a.record, [1300], 500, skip=joined + 0.5, keep=2.5)
    # The softphone's recording spans both calls; the second one is the last seconds before the stray call.
    import wave
    with wave.open(str(soft_rec)) as w:
        length = w.getnframes() / w.getframerate()
    hears(soft_rec, [500], 1300, skip=max(0.0, length - 6.5), keep=2.5)


def test_pstn_device_through_a_sipp_gateway(tmp_path):
    if not have("sipp"):
        pytest.skip("needs sip-tester")
    procs = []
    config = """
[devices.dvpstn]
kind = "pstn"
number = "+1-555-0100"
gateway = "127.0.0.1:7200"
"""
    try:
        conf, _ = network(tmp_path, procs)
        gw = start(procs, start_sipp("uas_pstn_gateway_offer.xml", None, 7200, tmp_path, timeout=40,
                                     template={"digits_re": r"\+15550100"}, extra=["-m", "1", "-mp", "7250"]))
        svc = start(procs, Service(tmp_path, sip_port=7062, config=config))
        c = svc.client()
        devices = c.call("<Devices/>").find("Devices")
        assert devices[0].get("uri") == "sip:+15550100@127.0.0.1:7200;user=phone"
        r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="dvpstn"/></Join>')
        assert r.get("status") == "ok" and r.get("mode") == "loop", r.attrib
        wait_for(lambda: len(participants(conf, "room1")) == 2, what="the PSTN call in room1")
        assert ME in [p["uri"] for p in participants(conf, "room1")]
        assert c.call("<Hangup/>").get("status") == "ok"
        wait_for(lambda: not gw.alive(), timeout=10, what="the gateway scenario to finish")
        assert gw.p.returncode == 0, gw.output()[-3000:]
    finally:
        stop_all(*reversed(procs))


class ClickToDial(BaseHTTPRequestHandler):
    """A click-to-dial API: checks the request, answers, and has the test's phone dial."""
    seen = []
    dial = None  # callable(target)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        ClickToDial.seen.append({"path": url.path, "query": query, "auth": self.headers.get("Authorization"),
                                 "type": self.headers.get("Content-Type"), "body": body.decode()})
        if url.path == "/fail":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        ok = self.headers.get("Authorization") == "Bearer dv-token" and json.loads(body)["to"] == query.get("to")
        self.send_response(200 if ok else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if ok:
            ClickToDial.dial(query["to"])

    def log_message(self, *args):
        pass


def test_http_click_to_dial_device(tmp_path):
    procs = []
    config = """
[devices.dvdesk]
kind = "http"
url = "http://127.0.0.1:7500/dial?to={target}&phone={device}"
method = "POST"
body = '{{"to": "{target}", "phone": "{device}"}}'
headers = "Content-Type: application/json\\nAuthorization: Bearer dv-token"
phone = "201"

[devices.dvbroken]
kind = "http"
url = "http://127.0.0.1:7500/fail?to={target}"
method = "POST"
"""
    dialed = []
    ClickToDial.seen = []
    ClickToDial.dial = lambda target: dialed.append(target)
    server = ThreadingHTTPServer(("127.0.0.1", 7500), ClickToDial)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conf, _ = network(tmp_path, procs)
        svc = start(procs, Service(tmp_path, sip_port=7062, config=config))
        c = svc.client()
        r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="dvdesk"/></Join>')
        assert r.get("status") == "ok" and r.get("mode") == "transfer", r.attrib
        req = ClickToDial.seen[0]
        assert req["path"] == "/dial" and req["query"] == {"to": f"sip:room1@{CONF}", "phone": "201"}, req
        assert req["type"] == "application/json" and json.loads(req["body"]) == {"to": f"sip:room1@{CONF}", "phone": "201"}
        # The desk phone (a confab phone here) calls the target itself: the conference shows it.
        wait_for(lambda: dialed, what="the click-to-dial server to pass the target on")
        desk = start(procs, Phone(tmp_path, "desk", 7104, "--tone", "900", "--from", "sip:desk@example.com",
                                  "--dial", dialed[0], rtp="44080-44119"))
        wait_for(lambda: "sip:desk@example.com" in [p["uri"] for p in participants(conf, "room1")],
                 what="the desk phone in room1")
        assert c.call("<Calls/>").get("count") == "0"  # the service keeps no call
        # Loop mode is impossible, a failing API gives its HTTP status.
        r = c.call(f'<Join id="sip:room1@{CONF}" mode="loop"><Use dev="dvdesk"/></Join>')
        assert r.get("code") == "400" and "transfer mode only" in r.get("reason"), r.attrib
        r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="dvbroken"/></Join>')
        assert r.get("status") == "error" and r.get("code") == "500", r.attrib
        assert "HTTP 500" in r.get("reason"), r.attrib
        assert ClickToDial.seen[-1]["type"] == "application/x-www-form-urlencoded"
        assert desk.alive() and svc.alive()
    finally:
        server.shutdown()
        server.server_close()
        stop_all(*reversed(procs))


def test_hangup_cancels_a_join_whose_softphone_is_still_starting(tmp_path):
    slow = tmp_path / "slow-phone.sh"  # starts, but its control interface never answers
    slow.write_text("#!/bin/sh\nexec sleep 60\n")
    slow.chmod(0o755)
    config = f"""
[devices.dvslow]
kind = "softphone"
program = "confab-phone"
path = "{slow}"
sip_port = "7330"
start_timeout_ms = "30000"
"""
    procs = []
    try:
        svc = start(procs, Service(tmp_path, sip_port=7062, config=config))
        app, other = svc.client(), svc.client()
        app.send(f'<Join id="sip:room1@{CONF}" tag="j"><Use dev="dvslow"/></Join>')
        wait_for(lambda: pid_of(svc, "dvslow") is not None, what="the softphone started")
        assert app.next(0.5) is None, "the Join must wait for its device"
        r = other.call("<Hangup/>")
        assert r.get("status") == "ok" and r.get("cancelled") == "1", r.attrib
        j = app.next(5)
        assert j is not None and j.get("tag") == "j" and j.get("code") == "487", j.attrib if j is not None else None
        assert other.call("<Calls/>").get("count") == "0"
        assert other.call("<Hangup/>").get("code") == "404", "nothing left to hang up"
    finally:
        stop_all(*reversed(procs))


def test_bad_device_settings_stop_the_service_with_a_clear_error(tmp_path):
    for toml, words in (('[devices.dvx]\nkind = "softphone"\nprogram = "baresip"\n',
                         "device dvx (softphone): setting 'sip_port' is missing"),
                        ('[devices.dvx]\nkind = "http"\nurl = "http://{target}/"\n',
                         "device dvx (http): setting 'url' the host must be written out"),
                        ('[devices.dvx]\nkind = "softphone"\nprogram = "confab-phone"\nsip_port = "7320"\nsip_prot = "1"\n',
                         "unknown setting 'sip_prot'")):
        path = tmp_path / "bad.toml"
        path.write_text(toml)
        runtime = tmp_path / "bad-run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        r = subprocess.run([CONFAB, "service", "--sip", "127.0.0.1:7062", "--api-tcp", "off", "--config", str(path)],
                           env=dict(os.environ, XDG_RUNTIME_DIR=str(runtime)), capture_output=True, text=True,
                           timeout=10)
        assert r.returncode != 0 and words in r.stderr + r.stdout, (r.returncode, r.stderr, r.stdout)


def test_linphonec_softphone_joins_and_stops_with_the_service(tmp_path):
    """Signalling only: Debian's linphonec has no audio file source on the command line."""
    if not have("linphonec"):
        pytest.skip("needs linphone-cli")
    sock = Path(f"/tmp/linphonec-{os.getuid()}")
    if sock.exists():
        import socket as sk
        s = sk.socket(sk.AF_UNIX)
        try:
            s.connect(str(sock))
            pytest.skip(f"a linphonec of this user already runs ({sock}): linphonec allows one per user")
        except OSError:
            pass
        finally:
            s.close()
    procs = []
    config = """
[devices.dvlin]
kind = "softphone"
program = "linphonec"
sip_port = "7320"
rtp_ports = "44300-44319"
start_timeout_ms = "20000"
"""
    pid = None
    try:
        conf, _ = network(tmp_path, procs)
        svc = start(procs, Service(tmp_path, sip_port=7062, config=config))
        c = svc.client()
        r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="dvlin"/></Join>', timeout=40)
        assert r.get("status") == "ok", r.attrib
        pid = pid_of(svc, "dvlin")
        assert pid and running(pid) and "linphonec" in cmdline(pid)
        wait_for(lambda: len(participants(conf, "room1")) == 2, what="linphonec in room1")
        assert c.call("<Hangup/>").get("status") == "ok"
        wait_for(lambda: len(participants(conf, "room1")) == 1, what="linphonec left room1")
        assert c.call(f'<Join id="sip:room1@{CONF}"><Use dev="dvlin"/></Join>', timeout=40).get("status") == "ok"
        assert pid_of(svc, "dvlin") == pid
        svc.stop()
        wait_for(lambda: not running(pid), timeout=5, what="linphonec to stop")
    finally:
        if pid and running(pid):
            os.kill(pid, 9)
        stop_all(*reversed(procs))
