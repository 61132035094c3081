"""The client service built with AddressSanitizer/LeakSanitizer (build-fuzz/confab,
made by scripts/test) through loop and transfer joins, a Replaces move, a re-INVITE
move, Multi-Invite, incoming calls, the chooser flow, and hostile input on every transport: it must
exit cleanly with no memory error and no leak."""
import os
import socket
from pathlib import Path

from confab_testlib import ROOT, ApiClient, Conference, Mixer, Phone, Service, start, stop_all, wait_for

ASAN_BIN = Path(os.environ.get("CONFAB_ASAN_BIN", str(ROOT / "build-fuzz" / "confab")))
CONF = "127.0.0.1:5080"


def assert_clean_exit(svc, rc):
    """The sanitized service reported no memory error or leak and exited with status 0."""
    out = svc.output()
    assert "ERROR: AddressSanitizer" not in out and "ERROR: LeakSanitizer" not in out, out[-6000:]
    assert rc == 0, f"exit status {rc}:\n{out[-4000:]}"


def test_client_service_has_no_memory_errors_or_leaks(tmp_path, monkeypatch):
    assert ASAN_BIN.exists(), f"{ASAN_BIN} missing: scripts/test builds it (CONFAB_FUZZ=1 scripts/setup)"
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--dial", f"sip:room1@{CONF}"))
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "900"))
        other = start(procs, Phone(tmp_path, "other", 5178, "--auto-answer"))
        carol = start(procs, Phone(tmp_path, "carol", 5180, "--auto-answer"))
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23")
        svc = Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk",
                      api_tcp="127.0.0.1:5065", web_api="127.0.0.1:5066", binary=ASAN_BIN)
        monkeypatch.delenv("ASAN_OPTIONS")
        c = svc.client()
        assert c.call('<Subscribe events="calls roster choices"/>').get("status") == "ok"
        assert c.call(f'<Join id="sip:room1@{CONF}"/>', timeout=30).get("status") == "ok"
        assert c.call(f'<SameDeviceJoin id="sip:room2@{CONF}"/>', timeout=30).get("how") == "replaces"
        assert c.call('<Invite><Add id="sip:carol@127.0.0.1:5180"/></Invite>', timeout=30).get("status") == "ok"
        carol.wait_event("media", timeout=20)
        r = c.call('<SameDeviceJoin id="sip:other@127.0.0.1:5178"/>', timeout=30)  # another host: re-INVITE
        assert r.get("how") == "reinvite", r.attrib
        other.wait_event("media", timeout=20)
        assert c.call("<Hangup/>").get("status") == "ok"
        r = c.call(f'<Join id="sip:room1@{CONF}" mode="transfer"><Use dev="sip:dev@127.0.0.1:5176"/></Join>',
                   timeout=30)
        assert r.get("reason") == "transferred", r.attrib
        # Incoming calls (this client is a chooser: it picks the device): one answered and hung up by
        # the caller, one cancelled while the user chooses, one left waiting for the choice at shutdown.
        def incoming_choice(n):
            wait_for(lambda: len([m for m in c.events() if m.tag == "ChoiceRequest" and m.get("incoming")]) == n,
                     timeout=20, what=f"incoming call {n} asks for a device")
            return [m for m in c.events() if m.tag == "ChoiceRequest" and m.get("incoming")][-1].get("choice")
        bob = start(procs, Phone(tmp_path, "bob", 5182, "--dial", "sip:alice@127.0.0.1:5062"))
        assert c.call(f'<Choose choice="{incoming_choice(1)}" dev="desk"/>').get("status") == "ok"
        bob.wait_event("answered", timeout=20)
        bob.send("hangup")
        bob.wait_event("terminated")
        bob.send("dial sip:alice@127.0.0.1:5062")
        incoming_choice(2)
        bob.send("hangup")
        wait_for(lambda: any(m.tag == "ChoiceDone" and m.get("outcome") == "cancelled" for m in c.events()),
                 what="the cancelled choice")
        bob.send("dial sip:alice@127.0.0.1:5062")
        incoming_choice(3)
        # An ExternalJoin waiting on this "chooser" connection, which then goes away.
        c.send(f'<ExternalJoin id="sip:room1@{CONF}"/>')
        wait_for(lambda: any(m.tag == "ChoiceRequest" and not m.get("incoming") for m in c.events()),
                 what="choice request")
        for data in ('<!DOCTYPE z [<!ENTITY a "aa">]><Join id="&a;"/>', "<a>" * 3000, "<Join id='" + "x" * 300000,
                     "\x00garbage"):
            h = svc.client()
            try:
                h.send_raw(data)
            except OSError:
                pass
            h.next(5)
            h.close()
        t = ApiClient(tcp_port=5065)
        t.send("<Calls/>")
        t.next(5)
        with socket.create_connection(("127.0.0.1", 5066), timeout=5) as s:
            s.sendall(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1:5066\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                      b"Origin: http://evil.example\r\n\r\n")
            assert b" 403 " in s.recv(4096)
        gone = socket.socket(socket.AF_UNIX)
        gone.connect(str(svc.socket))
        gone.sendall(b'<Calls/><Join id="sip:')
        gone.close()
        c.close()
        # The service has dealt with every connection gone above and goes on serving: a fresh
        # client gets its answers, the incoming call left waiting still waits for its device.
        after = svc.client()
        assert after.call("<Calls/>").get("status") == "ok"
        pending = lambda: [q.get("incoming") for q in after.call("<State/>").find("State").findall("ChoiceRequest")]
        wait_for(lambda: "true" in pending(), what="the incoming call still asking for a device", state=pending)
        after.close()
        assert svc.alive()
    finally:
        rc = svc.stop(timeout=20) if "svc" in locals() else None
        stop_all(*reversed(procs))
    assert_clean_exit(svc, rc)


def test_desktop_dialog_and_cancelled_joins_have_no_memory_errors_or_leaks(tmp_path, monkeypatch):
    """Incoming calls asked in desktop dialogs (a stand-in zenity): picked, given up by the caller
    while the dialog is open, and two left open at shutdown; a Join cancelled by Hangup while its
    softphone starts."""
    assert ASAN_BIN.exists(), f"{ASAN_BIN} missing: scripts/test builds it (CONFAB_FUZZ=1 scripts/setup)"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "zenity").write_text('#!/bin/sh\nif [ -e "$(dirname "$0")/pick" ]; then echo desk; else exec sleep 30; fi\n')
    (fake / "zenity").chmod(0o755)
    slow = tmp_path / "slow-phone.sh"
    slow.write_text("#!/bin/sh\nexec sleep 60\n")
    slow.chmod(0o755)
    config = f'[devices.slow]\nkind = "softphone"\nprogram = "confab-phone"\npath = "{slow}"\nsip_port = "5190"\n'
    procs = []
    try:
        start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer"))
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23")
        svc = Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk", binary=ASAN_BIN,
                      config=config, env={"DISPLAY": ":99", "PATH": f"{fake}:{os.environ['PATH']}"})
        monkeypatch.delenv("ASAN_OPTIONS")
        (fake / "pick").touch()
        bob = start(procs, Phone(tmp_path, "bob", 5182, "--dial", "sip:alice@127.0.0.1:5062"))
        bob.wait_event("answered", timeout=20)
        bob.send("hangup")
        bob.wait_event("terminated")
        (fake / "pick").unlink()

        def dial_and_ring():
            rung = len(bob.events_named("progress"))
            bob.send("dial sip:alice@127.0.0.1:5062")
            wait_for(lambda: len(bob.events_named("progress")) > rung, timeout=20, what="ringing, the dialog open")
        dial_and_ring()
        bob.send("hangup")
        wait_for(lambda: len(bob.events_named("terminated")) == 2, what="the caller gave up")
        dial_and_ring()
        # A second caller meanwhile: a second dialog; both are left open at shutdown.
        carol = start(procs, Phone(tmp_path, "carol", 5184, "--dial", "sip:alice@127.0.0.1:5062"))
        carol.wait_event("progress", timeout=20)
        c = svc.client()
        c.send('<Join id="sip:room1@127.0.0.1:5080" tag="j"><Use dev="slow"/></Join>')
        wait_for(lambda: "device slow: started" in svc.output(), what="the Join starting its softphone")
        assert c.call("<Hangup/>").get("cancelled") == "1"
        assert svc.alive()
    finally:
        rc = svc.stop(timeout=20) if "svc" in locals() else None
        stop_all(*reversed(procs))
    assert_clean_exit(svc, rc)
