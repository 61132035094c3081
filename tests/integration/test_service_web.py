"""confab service's web side and device choice: ExternalJoin through `confab open`
and an incoming call, answered on the chooser page in headless Chromium (playwright-core), the default
device, a desktop dialog, web origin approval for the WebSocket API, the
guards of the web side (key, Host, Origin, framing), and the leave grace of
web pages' calls (a small WebSocket client standing in for the pages)."""
import os
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from confab_testlib import CONFAB, BROWSER_SCRIPTS, Conference, Mixer, Phone, Proc, Service, WebSocket, hears, open_chooser, start, stop_all, wait_for

CONF = "127.0.0.1:5080"
WEB = 5066


def drive(*args, timeout=60):
    r = subprocess.run(["node", str(BROWSER_SCRIPTS / "drive.mjs"), *args], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def http_get(path, host=f"127.0.0.1:{WEB}", headers=()):
    """(status line, raw response) of one HTTP/1.1 request to the web side."""
    with socket.create_connection(("127.0.0.1", WEB), timeout=5) as s:
        extra = "".join(f"{h}\r\n" for h in headers)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    text = data.decode(errors="replace")
    return text.split("\r\n", 1)[0], text


def ws_upgrade(path="/api", origin=None, host=f"127.0.0.1:{WEB}"):
    headers = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
               "Sec-WebSocket-Version: 13"]
    if origin:
        headers.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", WEB), timeout=5) as s:
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode())
        return s.recv(4096).decode(errors="replace")


@pytest.fixture
def room(tmp_path):
    """A mixer, a conference server and one phone in room1."""
    procs = []
    start(procs, Mixer(tmp_path))
    conf = start(procs, Conference(tmp_path))
    start(procs, Phone(tmp_path, "a", 5172, "--dial", f"sip:room1@{CONF}"))
    yield conf, procs
    stop_all(*reversed(procs))


def participants(conf, room_id="room1"):
    return [p["contact"] for p in conf.conferences().get(room_id, {}).get("participants", [])]


def test_confab_open_asks_on_the_chooser_page_in_chromium(tmp_path, room):
    conf, procs = room
    desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
    spare = start(procs, Phone(tmp_path, "spare", 5178, "--auto-answer"))
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176", "spare=sip:spare@127.0.0.1:5178"],
                               default_device="spare", web_api=f"127.0.0.1:{WEB}"))
    url = svc.chooser_url()
    assert url.startswith(f"http://127.0.0.1:{WEB}/?key=") and len(url.split("key=")[1]) >= 32
    assert stat.S_IMODE(os.stat(svc.runtime / "confab" / "chooser-url").st_mode) == 0o600
    rc, out, _ = svc.cli("chooser")
    assert rc == 0 and out.strip() == url
    page = open_chooser(url, "desk")  # the user is asked there, not the default device
    try:
        rc, out, err = svc.cli("open", f"sip:room1@{CONF}", timeout=60)
        assert rc == 0 and 'device="desk"' in out, out + err
        log = page.communicate(timeout=30)[0]
    finally:
        page.kill()
    assert page.returncode == 0, log
    assert f"request: Join sip:room1@{CONF}" in log and "chosen desk" in log, log
    wait_for(lambda: len(participants(conf)) == 2, what="the chosen device joined")
    assert desk.wait_event("media") and not [e for e in spare.events() if e.get("event") == "incoming"]


def test_an_incoming_call_rings_the_device_picked_on_the_chooser_page_in_chromium(tmp_path):
    procs = []
    try:
        desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
        spare = start(procs, Phone(tmp_path, "spare", 5178, "--auto-answer"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176",
                                                      "spare=sip:spare@127.0.0.1:5178"],
                                   default_device="spare", web_api=f"127.0.0.1:{WEB}"))
        page = open_chooser(svc.chooser_url(), "desk")  # the user picks, not the default device
        try:
            bob = start(procs, Phone(tmp_path, "bob", 5172, "--from", "sip:bob@127.0.0.1:5172",
                                     "--dial", "sip:alice@127.0.0.1:5062"))
            bob.wait_event("answered", timeout=40)
            log = page.communicate(timeout=30)[0]
        finally:
            page.kill()
        assert page.returncode == 0, log
        assert "request: Incoming call from sip:bob@127.0.0.1:5172, answer on:" in log and "chosen desk" in log, log
        assert desk.wait_event("incoming") and not spare.events_named("incoming")
    finally:
        stop_all(*reversed(procs))


def test_external_join_uses_the_default_device_or_says_why_not(tmp_path, room):
    conf, procs = room
    desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], default_device="desk"))
    c = svc.client()
    r = c.call(f'<ExternalJoin id="sip:room1@{CONF}"/>')
    assert r.get("status") == "ok" and r.get("device") == "desk", r.attrib
    desk.wait_event("media")
    assert c.call("<Hangup/>").get("status") == "ok"
    svc.stop()
    procs.remove(svc)
    # Two devices, no default device and no way to ask: a clear error. (With one device, it is the default.)
    bare = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176", "spare=sip:spare@127.0.0.1:5178"],
                                name="bare"))
    r = bare.client().call(f'<ExternalJoin id="sip:room1@{CONF}"/>')
    assert r.get("code") == "409" and "chooser" in r.get("reason"), r.attrib
    rc, out, err = bare.cli("open", "mailto:someone@example.com")
    assert rc == 2 and "not a sip:" in err
    rc, out, err = bare.cli("open", "tel:+1-555-0100")
    assert rc == 1 and "tel_gateway" in out, out + err


def test_a_chooser_page_client_can_decline_and_choices_time_out(tmp_path, room):
    conf, procs = room
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], extra=[]))
    page = svc.client()
    assert page.call('<Subscribe events="choices"/>').get("status") == "ok"
    app = svc.client()
    app.send(f'<ExternalJoin id="sip:room1@{CONF}" tag="ask"/>')
    ask = page.next(5)
    assert ask is not None and ask.tag == "ChoiceRequest" and ask.get("target") == f"sip:room1@{CONF}", ask
    assert [d.get("id") for d in ask.find("Devices")] == ["desk"]
    state = page.call("<State/>").find("State")
    assert [x.get("choice") for x in state.findall("ChoiceRequest")] == [ask.get("choice")]
    assert page.call(f'<Choose choice="{ask.get("choice")}" decline="true"/>').get("status") == "ok"
    r = app.next(5)
    assert r.tag == "Result" and r.get("tag") == "ask" and r.get("code") == "603", r.attrib
    assert page.call('<Choose choice="k99" dev="desk"/>').get("code") == "404"


def test_a_desktop_dialog_chooses_when_a_display_is_present(tmp_path, room):
    conf, procs = room
    desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "zenity").write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\necho desk\n')
    (fake / "zenity").chmod(0o755)
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176", "other=sip:o@127.0.0.1:5999"],
                               env={"DISPLAY": ":99", "PATH": f"{fake}:{os.environ['PATH']}"}))
    r = svc.client().call(f'<ExternalJoin id="sip:room1@{CONF}"/>')
    assert r.get("status") == "ok" and r.get("device") == "desk", r.attrib
    args = (fake / "args").read_text()
    assert f"Join sip:room1@{CONF} on which device?" in args and "desk" in args and "other" in args, args
    desk.wait_event("media")


def test_an_incoming_call_asks_in_a_desktop_dialog_when_a_display_is_present(tmp_path):
    procs = []
    fake = tmp_path / "bin"
    fake.mkdir()
    # A stand-in for zenity: records its arguments and pid, then answers as `mode` says.
    (fake / "zenity").write_text('#!/bin/sh\nd="$(dirname "$0")"\necho "$@" > "$d/args"\necho $$ >> "$d/pids"\n'
                                 'case "$(cat "$d/mode")" in\n  pick) echo laptop ;;\n  decline) exit 1 ;;\n'
                                 '  wait) exec sleep 30 ;;\n  broken) echo "Gtk-WARNING **: cannot open display: :99" >&2; exit 1 ;;\n'
                                 'esac\n')
    (fake / "zenity").chmod(0o755)

    def dialog(mode):
        (fake / "mode").write_text(mode)
        for f in ("args", "pids"):
            (fake / f).unlink(missing_ok=True)

    try:
        desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
        laptop = start(procs, Phone(tmp_path, "laptop", 5178, "--auto-answer", "--tone", "1300"))
        start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176", "laptop=sip:laptop@127.0.0.1:5178"],
                             default_device="desk", env={"DISPLAY": ":99", "PATH": f"{fake}:{os.environ['PATH']}"}))
        # Picked in the dialog: that device rings, not the default one.
        dialog("pick")
        bob = start(procs, Phone(tmp_path, "bob", 5172, "--tone", "500", "--from", "sip:bob&co@127.0.0.1:5172",
                                 "--dial", "sip:alice@127.0.0.1:5062"))
        bob.wait_event("answered")
        assert laptop.wait_event("incoming")["from"] == "sip:bob&co@127.0.0.1:5172"
        args = (fake / "args").read_text()
        assert "Incoming call from sip:bob&amp;co@127.0.0.1:5172: answer on which device?" in args, args
        assert "--cancel-label=Decline" in args and "desk" in args and "laptop" in args, args
        time.sleep(4)
        bob.send("hangup")
        laptop.wait_event("terminated")
        # Declined in the dialog: 603.
        dialog("decline")
        bob.send("dial sip:alice@127.0.0.1:5062")
        bob.wait_event("terminated", status=603)
        # Two callers at once, each with a dialog, give up while it is open: both close, nothing rings.
        dialog("wait")
        carol = start(procs, Phone(tmp_path, "carol", 5180, "--from", "sip:carol@127.0.0.1:5180"))
        rung = len(bob.events_named("progress"))
        bob.send("dial sip:alice@127.0.0.1:5062")
        carol.send("dial sip:alice@127.0.0.1:5062")

        def pids():
            return [int(x) for x in (fake / "pids").read_text().split()] if (fake / "pids").exists() else []
        wait_for(lambda: len(pids()) == 2, what="two dialogs")
        wait_for(lambda: len(bob.events_named("progress")) > rung and carol.events_named("progress"), what="ringing")
        bob.send("hangup")
        carol.send("hangup")
        wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids()), what="the dialogs closed")
        bob.wait_event("terminated", status=487)
        carol.wait_event("terminated", status=487)
        assert not desk.events_named("incoming") and len(laptop.events_named("incoming")) == 1
        # No dialog can be shown (the display is gone): the default device rings, as without a display.
        dialog("broken")
        bob.send("dial sip:alice@127.0.0.1:5062")
        desk.wait_event("incoming")
        wait_for(lambda: len(bob.events_named("answered")) == 2, what="answered on the default device")
    finally:
        stop_all(*reversed(procs))
    hears(laptop.record, [500], 1300)
    hears(bob.record, [1300], 500)


def test_web_origins_must_be_approved_and_the_web_side_is_guarded(tmp_path):
    procs = []
    try:
        svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], web_api=f"127.0.0.1:{WEB}"))
        url = svc.chooser_url()
        key = url.split("key=")[1]
        status, text = http_get(f"/?key={key}")
        assert status.endswith("200 OK") and "X-Frame-Options: DENY" in text and "Confab" in text, status
        assert http_get("/")[0].endswith("403 Forbidden")
        assert http_get(f"/?key={key}", host="evil.example:5066")[0].endswith("403 Forbidden")  # DNS rebinding
        assert " 403 " in ws_upgrade(origin="http://evil.example")
        assert " 403 " in ws_upgrade()  # no Origin: programs use the socket or TCP
        assert " 403 " in ws_upgrade(origin=f"http://127.0.0.1:{WEB}")  # our own page needs its key
        assert " 101 " in ws_upgrade(path=f"/api?key={key}", origin=f"http://127.0.0.1:{WEB}")
        # A page from another origin: refused until the user approves it on the chooser page.
        site = tmp_path / "site"
        site.mkdir()
        shutil.copy(BROWSER_SCRIPTS / "app.html", site / "index.html")
        start(procs, Proc(["/usr/bin/python3", "-m", "http.server", "5077", "--bind", "127.0.0.1", "-d", str(site)],
                          tmp_path / "site.log"))
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", 5077)) == 0, what="test web site")
        rc, log = drive("approve", url, "http://127.0.0.1:5077/")
        assert rc == 0, log
        assert "app refused" in log and '"type":"Devices"' in log and '"id":"desk"' in log, log
        # What web pages may not do, even approved ones: approve origins, follow choices, raw SIP.
        for tag in ("2", "3", "4"):
            line = next(x for x in log.splitlines() if x.startswith(f"app result {tag} "))
            assert '"code":"403"' in line, line
        assert (svc.runtime / "approved-origins").read_text().split() == ["http://127.0.0.1:5077"]
        rc, out, _ = svc.cli("approve", "--revoke", "http://127.0.0.1:5077")
        assert rc == 0
        assert " 403 " in ws_upgrade(origin="http://127.0.0.1:5077")
        rc, out, _ = svc.cli("approve", "javascript:alert(1)")
        assert rc == 1 and 'code="400"' in out
    finally:
        stop_all(*reversed(procs))


def test_install_desktop_registers_the_link_handler_that_joins(tmp_path, room):
    conf, procs = room
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME="", XDG_DATA_HOME="")
    r = subprocess.run([CONFAB, "install-desktop"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    desktop = (home / ".local/share/applications/confab.desktop").read_text()
    assert "MimeType=x-scheme-handler/sip;x-scheme-handler/sips;x-scheme-handler/tel;x-scheme-handler/callto;" in desktop
    unit = (home / ".config/systemd/user/confab-service.service").read_text()
    assert "ExecStart=/" in unit and unit.split("ExecStart=")[1].split()[1] == "service"
    for scheme in ("sip", "sips", "tel", "callto"):
        q = subprocess.run(["xdg-mime", "query", "default", f"x-scheme-handler/{scheme}"], env=env, capture_output=True,
                           text=True)
        assert q.stdout.strip() == "confab.desktop", (scheme, q.stdout, q.stderr)
    # What the desktop runs for a clicked link: its Exec line with the URL.
    desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], default_device="desk"))
    exec_line = next(line for line in desktop.splitlines() if line.startswith("Exec=")).split("=", 1)[1]
    argv = [a.replace("%u", f"sip:room1@{CONF}") for a in exec_line.split()]
    r = subprocess.run(argv, env=svc.env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and 'device="desk"' in r.stdout, r.stdout + r.stderr
    desk.wait_event("media")
    wait_for(lambda: len(participants(conf)) == 2, what="joined through the link handler")


# ---- leaving a site ends its call after leave_grace_s; navigating does not ----

SITE = "https://films.example"


def web_page(kinds="calls"):
    """A page of SITE connected to the service's WebSocket API, subscribed to `kinds`."""
    ws = WebSocket(WEB, "/api", origin=SITE)
    assert ws.closed is None, ws.closed
    ws.send({"type": "Subscribe", "events": kinds, "tag": "s"})
    assert ws.next("Result", until=lambda m: m.get("tag") == "s")["status"] == "ok"
    return ws


def join_from(page, target, tag="j"):
    page.send({"type": "SameDeviceJoin", "id": target, "tag": tag})
    return page.next("Result", timeout=30, until=lambda m: m.get("tag") == tag)


def call_count(svc):
    return int(svc.client().call("<Calls/>").get("count"))


def test_a_web_pages_call_survives_a_navigation_and_ends_after_the_grace_once_the_site_is_left(tmp_path, room):
    conf, procs = room
    desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], web_api=f"127.0.0.1:{WEB}",
                               extra=["--leave-grace", "2"]))
    assert svc.cli("approve", SITE)[0] == 0
    page = web_page()
    r = join_from(page, f"sip:room1@{CONF}")  # no call yet: as ExternalJoin, on the only device
    assert r["status"] == "ok" and r["device"] == "desk", r
    wait_for(lambda: len(participants(conf)) == 2, what="the device in the conference")
    # A navigation: the page's socket closes and the next page's opens within the grace.
    page.close()
    page = web_page("calls roster")
    # A page that comes when the call is already in its conference hears who is there at once.
    roster = page.next("Roster")
    joined = [c["uri"] for c in roster["children"] if c["type"] == "Joined"]
    assert roster["call"] == "c1" and len(joined) == 2 and "sip:alice@127.0.0.1:5062" in joined, roster
    r = join_from(page, f"sip:room1@{CONF}")
    assert r["status"] == "ok" and r["how"] == "none" and r["call"] == "c1", r
    left_at = time.monotonic()
    wait_for(lambda: time.monotonic() - left_at > 3, timeout=5, what="past the grace")
    assert call_count(svc) == 1 and not desk.events_named("terminated"), svc.output()[-2000:]
    # The last page of the site closes: the call ends once the grace is over.
    page.close()
    left_at = time.monotonic()
    desk.wait_event("terminated", timeout=10)
    assert 1.8 <= time.monotonic() - left_at < 5
    assert f"call c1 ended: every page of {SITE} closed 2 s ago (leave_grace_s)" in svc.output()
    wait_for(lambda: len(participants(conf)) == 1, what="the device left the conference")


def test_a_leave_grace_of_zero_never_ends_a_web_pages_call(tmp_path, room):
    conf, procs = room
    desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
    svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], web_api=f"127.0.0.1:{WEB}",
                               config="[service]\nleave_grace_s = 0\n"))
    assert svc.cli("approve", SITE)[0] == 0
    page = web_page()
    assert join_from(page, f"sip:room1@{CONF}")["status"] == "ok"
    page.close()
    left_at = time.monotonic()
    wait_for(lambda: time.monotonic() - left_at > 3, timeout=5, what="a while after the site was left")
    assert call_count(svc) == 1 and not desk.events_named("terminated") and len(participants(conf)) == 2
    assert "leave_grace_s" not in svc.output()
    # A bad setting is refused at start.
    r = subprocess.run([CONFAB, "service", "--leave-grace", "-1"], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "--leave-grace" in r.stdout + r.stderr, r.stdout + r.stderr
