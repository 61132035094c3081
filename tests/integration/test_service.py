"""confab service (the client SIP service) with real peers on loopback: Join in
loop mode (RFC 3725) and transfer mode (REFER), SameDeviceJoin by Replaces and by
re-INVITE across servers, Multi-Invite (RFC 4579), roster events, incoming calls
rung on the device, the command line, and the API's security and robustness.
Audio is checked by content."""
import os
import signal
import socket
import subprocess
import time

from confab_testlib import (CONFAB, ApiClient, Baresip, Conference, Mixer, Phone, Service, hears, run_sipp, start,
                            stop_all, switch_gap_ms, wait_for)

CONF = "127.0.0.1:5080"
CONF_B = "127.0.0.1:5082"


def roster_members(events, conference):
    """Replays <Roster> events of one conference into the set of its members."""
    members = set()
    for e in events:
        if e.tag == "Roster" and e.get("conference") == conference:
            for c in e:
                (members.add if c.tag == "Joined" else members.discard)(c.get("uri"))
    return members


def collect(client, seconds):
    """Every message the client receives within `seconds`."""
    out, end = [], time.time() + seconds
    while time.time() < end:
        m = client.next(end - time.time())
        if m is not None:
            out.append(m)
    return out


class Watcher:
    """An API client subscribed to call and roster events that keeps all it gets."""

    def __init__(self, service):
        self.c = service.client()
        assert self.c.call('<Subscribe events="calls roster"/>').get("status") == "ok"
        self.seen = []

    def poll(self):
        while (m := self.c.next(0.05)) is not None:
            self.seen.append(m)
        return self.seen

    def wait_members(self, conference, members, timeout=10):
        wait_for(lambda: roster_members(self.poll(), conference) == set(members), timeout=timeout,
                 what=f"roster of {conference} = {members} (now {roster_members(self.seen, conference)})")

    def states(self, call):
        return [e.get("state") for e in self.poll() if e.tag == "Call" and e.get("id") == call]


def recording_ms(phone):
    """Now, on the phone's recording clock (ms since it started)."""
    return int(time.time() * 1000) - phone.epoch_ms()


def test_join_loop_mode_with_baresip_device_into_a_conference_of_two_phones(tmp_path):
    procs, bs = [], None
    try:
        start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--from", "sip:a@example.com",
                               "--dial", f"sip:room1@{CONF}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "900", "--volume", "0.2", "--from", "sip:b@example.com",
                               "--dial", f"sip:room1@{CONF}"))
        bs = Baresip("svcdev", 5250, 1300, volume=0.2)
        svc = start(procs, Service(tmp_path, devices=["desk=sip:svcdev@127.0.0.1:5250"], default_device="desk"))
        w = Watcher(svc)
        c = svc.client()
        r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="desk"/></Join>')
        assert r.get("status") == "ok" and r.get("mode") == "loop", r.attrib
        call = r.get("call")
        # The roster events list all three: the two phones and the user of the service.
        w.wait_members(f"sip:room1@{CONF}", {"sip:a@example.com", "sip:b@example.com", "sip:alice@127.0.0.1:5062"})
        assert [s for s in w.states(call) if s != "ringing"][:2] == ["calling", "active"]
        listed = c.call("<Calls/>").find("Calls")
        assert [(x.get("id"), x.get("state"), x.get("mode")) for x in listed] == [(call, "active", "loop")]
        time.sleep(4)
        assert c.call("<Hangup/>").get("status") == "ok"
        wait_for(lambda: "ended" in w.states(call), what="call ended event")
        wait_for(lambda: len(c.call("<Calls/>").find("Calls")) == 0, what="no calls left")
    finally:
        if bs:
            bs.stop()
        stop_all(*reversed(procs))
    recs = bs.recordings()
    assert recs, "baresip recorded nothing"
    hears(max(recs, key=lambda p: p.stat().st_size), [500, 900], 1300)  # media end to end, device <-> mixer
    hears(a.record, [900, 1300], 500)
    hears(b.record, [500, 1300], 900)


def test_join_transfer_mode_leaves_the_device_in_the_conference(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--dial", f"sip:room1@{CONF}"))
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "1300", "--volume", "0.2"))
        svc = start(procs, Service(tmp_path))
        c = svc.client()
        r = c.call(f'<Join id="sip:room1@{CONF}" mode="transfer"><Use dev="sip:dev@127.0.0.1:5176"/></Join>')
        assert r.get("status") == "ok" and r.get("reason") == "transferred", r.attrib
        wait_for(lambda: len(conf.conferences().get("room1", {}).get("participants", [])) == 2, what="device in room1")
        contacts = [p["contact"] for p in conf.conferences()["room1"]["participants"]]
        assert any(x.endswith(":5176") for x in contacts), contacts  # the device itself, not the service
        # The service holds no dialog afterwards: its call with the device ended, no calls listed.
        wait_for(lambda: dev.wait_event("terminated", call="c1"), what="service's dialog with the device ended")
        assert len(c.call("<Calls/>").find("Calls")) == 0
        dev_in, a_in = recording_ms(dev) / 1000, recording_ms(a) / 1000  # both in the conference from here
        time.sleep(3)
    finally:
        stop_all(*reversed(procs))
    hears(dev.record, [500], 1300, skip=dev_in + 0.5, keep=2.0)
    hears(a.record, [1300], 500, skip=a_in + 0.5, keep=2.0)


def same_device_join(tmp_path, room2, how):
    """room1 (900 Hz) on the first server -> `room2` (1300 Hz); returns (gap, ms to the new room)."""
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        if CONF_B in room2:
            start(procs, Mixer(tmp_path, port=5092, rtp="21000-21999", http_port=5093, name="mixer-b"))
            start(procs, Conference(tmp_path, port=5082, mixer="sip:127.0.0.1:5092", admin_port=5083,
                                    name="conference-b"))
        start(procs, Phone(tmp_path, "r1", 5172, "--tone", "900", "--volume", "0.2", "--from", "sip:r1@example.com",
                           "--dial", f"sip:room1@{CONF}"))
        start(procs, Phone(tmp_path, "r2", 5174, "--tone", "1300", "--volume", "0.2", "--from", "sip:r2@example.com",
                           "--dial", room2))
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "500", "--volume", "0.2"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        w = Watcher(svc)
        c = svc.client()
        assert c.call(f'<Join id="sip:room1@{CONF}"/>').get("status") == "ok"
        me = "sip:alice@127.0.0.1:5062"
        w.wait_members(f"sip:room1@{CONF}", {"sip:r1@example.com", me})
        time.sleep(2)
        at = recording_ms(dev)
        r = c.call(f'<SameDeviceJoin id="{room2}"/>')
        assert r.get("status") == "ok" and r.get("how") == how, r.attrib
        w.wait_members(room2, {"sip:r2@example.com", me})  # the new roster gains us ...
        assert me not in roster_members(w.seen, f"sip:room1@{CONF}")  # ... the old one lost us
        time.sleep(2)  # a window for a wrong BYE or re-INVITE to reach the device (and audio of the new room)
        # The device never received a BYE: one call, still up.
        assert not [e for e in dev.events() if e.get("event") == "terminated"], dev.events()
        if how == "replaces":  # nor a re-INVITE: its media never changed
            assert len([e for e in dev.events() if e.get("event") == "media"]) == 1, dev.events()
    finally:
        stop_all(*reversed(procs))
    gap, switch = switch_gap_ms(dev.record, at, 900, 1300)
    print(f"SameDeviceJoin ({how}): gap {max(gap, 0)} ms, new conference heard {switch} ms after the request")
    return gap, switch


def test_same_device_join_on_the_same_server_uses_replaces_without_gap(tmp_path):
    gap, switch = same_device_join(tmp_path, f"sip:room2@{CONF}", "replaces")
    assert gap <= 20, f"{gap} ms of silence between the conferences"
    assert switch <= 200


def test_same_device_join_across_servers_by_reinvite_make_before_break(tmp_path):
    gap, switch = same_device_join(tmp_path, f"sip:room2@{CONF_B}", "reinvite")
    assert gap <= 60, f"{gap} ms of silence between the conferences"


def test_multi_invite_into_the_current_and_into_an_ad_hoc_conference(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--dial", f"sip:room1@{CONF}"))
        carol = start(procs, Phone(tmp_path, "carol", 5174, "--auto-answer", "--tone", "900", "--volume", "0.2"))
        dan = start(procs, Phone(tmp_path, "dan", 5178, "--auto-answer", "--tone", "1100", "--volume", "0.2"))
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "1300", "--volume", "0.2"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        c = svc.client()
        # No current call: an ad-hoc conference on the default device, then the invitations.
        r = c.call('<Invite><Add id="sip:carol@127.0.0.1:5174"/></Invite>')
        assert r.get("status") == "ok", r.attrib
        adhoc = r.get("conference")
        assert adhoc.startswith("sip:alice-") and adhoc.endswith(f"@{CONF}"), adhoc
        room = adhoc[4:].split("@")[0]
        wait_for(lambda: len(conf.conferences().get(room, {}).get("participants", [])) == 2, what="carol joined")
        carol_joined = recording_ms(carol) / 1000
        time.sleep(2.5)
        # Into the current conference (the ad-hoc one is current): dan too.
        r = c.call('<Invite><Add id="sip:dan@127.0.0.1:5178"/></Invite>')
        assert r.get("status") == "ok" and r.get("conference") == adhoc, r.attrib
        wait_for(lambda: len(conf.conferences()[room]["participants"]) == 3, what="dan joined")
        # And into an existing conference joined first.
        assert c.call("<Hangup/>").get("status") == "ok"
        assert c.call(f'<Join id="sip:room1@{CONF}"/>').get("status") == "ok"
        ended = len(carol.events_named("terminated"))
        carol.send("hangup")
        wait_for(lambda: len(carol.events_named("terminated")) > ended, what="carol out of the ad-hoc conference")
        wait_for(lambda: len(conf.conferences()[room]["participants"]) == 1, what="only dan left in the ad-hoc one",
                 state=lambda: conf.conferences().get(room))
        r = c.call('<Invite><Add id="sip:carol@127.0.0.1:5174"/></Invite>')
        assert r.get("status") == "ok" and r.get("conference") == f"sip:room1@{CONF}", r.attrib
        wait_for(lambda: len(conf.conferences()["room1"]["participants"]) == 3, what="carol in room1")
        bad = c.call('<Invite><Add id="not a uri"/></Invite>')
        assert bad.get("code") == "400", bad.attrib
        time.sleep(1)
    finally:
        stop_all(*reversed(procs))
    hears(carol.record, [1300], 900, skip=carol_joined + 0.5, keep=1.5)  # carol hears the user's device


def test_command_line_client_and_events(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "a", 5172, "--dial", f"sip:room1@{CONF}"))
        start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        rc, out, err = svc.cli("devices")
        assert rc == 0 and 'id="desk"' in out and 'default="true"' in out, out + err
        rc, out, err = svc.cli("join", f"sip:room1@{CONF}")
        assert rc == 0 and 'reason="connected"' in out, out + err
        rc, out, err = svc.cli("calls")
        assert rc == 0 and 'state="active"' in out, out
        rc, out, err = svc.cli("same-device-join", f"sip:room2@{CONF}")
        assert rc == 0 and 'how="replaces"' in out, out + err
        rc, out, err = svc.cli("join", f"sip:room1@{CONF}", "--device", "nosuch")
        assert rc == 1 and 'code="404"' in out and "unknown device" in err, out + err
        rc, out, err = svc.cli("api", "<Frobnicate/>")
        assert rc == 1 and 'code="501"' in out, out
        rc, out, err = svc.cli("hangup")
        assert rc == 0, out + err
        rc, out, err = svc.cli("hangup")
        assert rc == 1 and 'code="404"' in out, out
    finally:
        stop_all(*reversed(procs))


def test_api_security_and_hostile_input_leave_other_clients_unaffected(tmp_path):
    procs = []
    try:
        svc = start(procs, Service(tmp_path, api_tcp="127.0.0.1:5065"))
        token_file = svc.runtime / "confab" / "token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert oct(svc.socket.stat().st_mode & 0o777) == "0o600"
        assert oct((svc.runtime / "confab").stat().st_mode & 0o777) == "0o700"
        steady = svc.client()
        assert steady.call("<Calls/>").get("status") == "ok"

        # TCP: no token, a wrong token: refused and closed.
        for first in ("<Calls/>", '<Auth token="guess"/>'):
            t = ApiClient(tcp_port=5065)
            t.send(first)
            r = t.next()
            assert r is not None and r.get("code") == "401", first
            assert t.next() is None and t.closed
        t = ApiClient(tcp_port=5065)
        assert t.call(f'<Auth token="{token_file.read_text().strip()}"/>').get("code") == "200"
        assert t.call("<Devices/>").get("status") == "ok"

        hostile = {
            "xml bomb": '<!DOCTYPE z [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><Join id="&b;"/>',
            "deep nesting": "<a>" * 5000,
            "10 MB message": '<Join id="' + "x" * (10 * 1024 * 1024) + '"/>',
            "not XML": "\x00\x01 hello",
        }
        for what, data in hostile.items():
            h = svc.client()
            try:
                h.send_raw(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = h.next()
            assert r is not None and r.get("code") == "400", f"{what}: {r.attrib if r is not None else None}"
            assert h.next() is None and h.closed, what
        for xml, code in (("<Frobnicate/>", "501"), ('<Join id="not-a-uri"/>', "400"), ("<Join/>", "400"),
                          ('<Join id="sip:x@127.0.0.1:5999"><Use dev="nosuch"/></Join>', "404"),
                          ('<Join id="sip:x@127.0.0.1"/>', "409"), ('<Subscribe events="weather"/>', "400"),
                          ('<Hangup call="c99"/>', "404"), ("<SameDeviceJoin/>", "400"),
                          ('<Join id="sip:a@b" mode="teleport"/>', "400")):
            r = steady.call(xml)
            assert r.get("code") == code, f"{xml}: {r.attrib}"
        # A client that vanishes mid-request does not disturb the service.
        gone = socket.socket(socket.AF_UNIX)
        gone.connect(str(svc.socket))
        gone.sendall(b'<Calls tag="1"/><Join id="sip:')
        gone.close()
        assert steady.call("<Calls/>").get("status") == "ok"
        assert svc.alive()
    finally:
        stop_all(*reversed(procs))
    assert "refused" in svc.output()


def test_a_device_that_dies_mid_call_ends_the_call_with_events(tmp_path):
    procs = []
    try:
        mixer = start(procs, Mixer(tmp_path, extra=["--rtp-timeout", "2"]))
        start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--dial", f"sip:room1@{CONF}"))
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "900"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        w = Watcher(svc)
        c = svc.client()
        call = c.call(f'<Join id="sip:room1@{CONF}"/>').get("call")
        # The device's media flows (the mixer gets RTP on both legs of room1), then it dies.
        receiving = lambda: [l["packets_received"] > 0 for m in mixer.mixes() for l in m["legs"]]
        wait_for(lambda: receiving() == [True, True], what="RTP from a and from the device", state=receiving)
        os.killpg(dev.p.pid, signal.SIGKILL)
        wait_for(lambda: "ended" in w.states(call), timeout=20, what="the call ends once the device's media stops")
        assert c.call("<Calls/>").get("count") == "0"
        # The service goes on serving.
        dev2 = start(procs, Phone(tmp_path, "dev2", 5178, "--auto-answer"))
        r = c.call(f'<Join id="sip:room1@{CONF}"><Use dev="sip:dev2@127.0.0.1:5178"/></Join>')
        assert r.get("status") == "ok", r.attrib
        assert dev2.wait_event("media")
    finally:
        stop_all(*reversed(procs))


def test_a_conference_server_that_dies_mid_call_ends_the_call_and_the_service_goes_on(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "900"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk",
                                   extra=["--keepalive", "1"]))
        w = Watcher(svc)
        c = svc.client()
        call = c.call(f'<Join id="sip:room1@{CONF}"/>').get("call")
        time.sleep(2.5)  # a few keepalives answered: the call stays
        assert w.states(call)[-1] == "active"
        os.killpg(conf.p.pid, signal.SIGKILL)
        t0 = time.time()
        wait_for(lambda: "ended" in w.states(call), timeout=40, what="the call ends once the server is gone")
        print(f"call ended {time.time() - t0:.1f} s after the conference server died")
        ended = [e for e in w.poll() if e.tag == "Call" and e.get("state") == "ended"][-1]
        assert "target is gone" in ended.get("reason"), ended.attrib
        dev.wait_event("terminated")  # the device got its BYE
        assert c.call("<Calls/>").get("count") == "0"
        r = c.call(f'<Join id="sip:room1@{CONF}"/>')  # nobody there now: a clear error, not a hang
        assert r.get("status") == "error", r.attrib
        assert svc.alive()
    finally:
        stop_all(*reversed(procs))


def test_an_incoming_call_rings_the_device_and_both_hear_each_other(tmp_path):
    procs = []
    try:
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--tone", "900"))  # rings until told to answer
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        w = Watcher(svc)
        bob = start(procs, Phone(tmp_path, "bob", 5172, "--tone", "500", "--from", "sip:bob@127.0.0.1:5172",
                                 "--dial", "sip:alice@127.0.0.1:5062"))
        # The device rings with the caller's identity; the caller hears it ring.
        assert dev.wait_event("incoming")["from"] == "sip:bob@127.0.0.1:5172"
        bob.wait_event("progress", status=180)
        wait_for(lambda: "ringing" in [e.get("state") for e in w.poll() if e.tag == "Call"], what="ringing event")
        first = next(e for e in w.seen if e.tag == "Call")
        assert (first.get("state"), first.get("direction"), first.get("target"), first.get("device")) == \
            ("incoming", "incoming", "sip:bob@127.0.0.1:5172", "desk"), first.attrib
        call = first.get("id")
        dev.send("answer")
        bob.wait_event("answered")
        wait_for(lambda: "active" in w.states(call), what="active event")
        listed = svc.client().call("<Calls/>").find("Calls")
        assert [(x.get("id"), x.get("state"), x.get("direction")) for x in listed] == [(call, "active", "incoming")]
        time.sleep(4)
        # The caller hangs up: the device gets its BYE, the apps an "ended" event.
        bob.send("hangup")
        dev.wait_event("terminated")
        wait_for(lambda: "ended" in w.states(call), what="ended event")
        assert not [e for e in w.seen if e.tag == "Roster"], "an incoming call has no conference roster"
    finally:
        stop_all(*reversed(procs))
    # Media end to end: each hears the other.
    hears(dev.record, [500], 900)
    hears(bob.record, [900], 500)


def test_an_incoming_call_cancelled_while_ringing_with_no_device_or_from_outside_incoming_from(tmp_path):
    procs = []
    try:
        dev = start(procs, Phone(tmp_path, "dev", 5176))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        w = Watcher(svc)
        bob = start(procs, Phone(tmp_path, "bob", 5172, "--dial", "sip:alice@127.0.0.1:5062"))
        dev.wait_event("incoming")
        bob.wait_event("progress", status=180)
        bob.send("hangup")  # CANCEL: the device stops ringing
        dev.wait_event("terminated")
        wait_for(lambda: [e for e in w.poll() if e.tag == "Call" and e.get("state") == "ended"], what="ended event")
        assert svc.client().call("<Calls/>").get("count") == "0"
        # The device declines: the caller gets the device's status.
        bob.send("dial sip:alice@127.0.0.1:5062")
        wait_for(lambda: len([e for e in dev.events() if e.get("event") == "incoming"]) == 2, what="second ring")
        dev.send("hangup")
        assert bob.wait_event("terminated", status=480)
        stop_all(svc)
        # incoming_device = off: declined at once, 480.
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk",
                                   extra=["--incoming-device", "off"], name="service-off"))
        bob.send("dial sip:alice@127.0.0.1:5062")
        wait_for(lambda: len([e for e in bob.events() if e.get("event") == "terminated" and e.get("status") == "480"])
                 == 2, what="480 for the caller")
        assert len([e for e in dev.events() if e.get("event") == "incoming"]) == 2, "the device must not ring"
        stop_all(svc)
        # incoming_from: a caller from another source address is refused with 403; one from inside rings.
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk",
                                   extra=["--incoming-from", "127.0.0.2", "--incoming-from", "10.0.0.0/8"],
                                   name="service-from"))
        bob.send("dial sip:alice@127.0.0.1:5062")
        bob.wait_event("terminated", status=403)
        assert len(dev.events_named("incoming")) == 2, "a caller from outside incoming_from must not ring the device"
        assert "not in incoming_from" in svc.output()
        carol = start(procs, Phone(tmp_path, "carol", 5180, "--dial", "sip:alice@127.0.0.1:5062", host="127.0.0.2"))
        wait_for(lambda: len(dev.events_named("incoming")) == 3, what="the allowed caller rings the device")
        carol.send("hangup")
        # Bad settings are configuration errors, said at start.
        for option, value, words in (("--incoming-device", "nonesuch", "incoming_device 'nonesuch'"),
                                     ("--incoming-from", "10.0.0.0/33", "'10.0.0.0/33' is not an IP address or network")):
            r = subprocess.run([CONFAB, "service", "--sip", "127.0.0.1:5064", option, value, "--api-tcp", "off",
                                "--web-api", "off"], env=svc.env, capture_output=True, text=True, timeout=10)
            assert r.returncode != 0 and words in r.stderr, (option, r.returncode, r.stderr)
    finally:
        stop_all(*reversed(procs))


def test_an_incoming_call_without_an_offer_gets_the_devices_offer_and_passes_the_answer_on(tmp_path):
    procs = []
    try:
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "900"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        w = Watcher(svc)
        # SIPp INVITEs without SDP, takes the device's offer from our 200 and answers in its ACK.
        rc, log = run_sipp("uac_3pcc.xml", "127.0.0.1:5062", 5094, tmp_path, template={"millis": 1500},
                           extra=["-m", "1", "-key", "ruri", "sip:alice@127.0.0.1:5062", "-mp", "6200"])
        assert rc == 0, log
        media = dev.wait_event("media")
        assert media["remote"] == "127.0.0.1:6200", media  # the caller's answer reached the device
        dev.wait_event("terminated")
        wait_for(lambda: any(e.tag == "Call" and e.get("state") == "ended" for e in w.poll()), what="ended event")
        states = [e.get("state") for e in w.seen if e.tag == "Call"]
        assert states[0] == "incoming" and "active" in states, states
    finally:
        stop_all(*reversed(procs))


def test_an_incoming_call_waits_for_the_users_pick_on_the_chooser(tmp_path):
    procs = []
    try:
        desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer", "--tone", "900"))
        laptop = start(procs, Phone(tmp_path, "laptop", 5178, "--auto-answer", "--tone", "1300"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176",
                                                      "laptop=sip:laptop@127.0.0.1:5178"], default_device="desk"))
        chooser = svc.client()  # what the chooser page does: it subscribes to choices
        assert chooser.call('<Subscribe events="choices calls"/>').get("status") == "ok"

        def ask():
            wait_for(lambda: any(m.tag == "ChoiceRequest" for m in chooser.events()), what="choice request")
            return next(m for m in chooser.events() if m.tag == "ChoiceRequest")

        bob = start(procs, Phone(tmp_path, "bob", 5172, "--tone", "500", "--from", "sip:bob@127.0.0.1:5172",
                                 "--dial", "sip:alice@127.0.0.1:5062"))
        q = ask()
        assert (q.get("incoming"), q.get("target")) == ("true", "sip:bob@127.0.0.1:5172"), q.attrib
        assert [d.get("id") for d in q.find("Devices")] == ["desk", "laptop"]
        bob.wait_event("progress", status=180)  # the caller hears it ring while the user picks
        assert not desk.events_named("incoming") and not laptop.events_named("incoming")
        state = chooser.call("<State/>").find("State")
        assert [c.get("incoming") for c in state.findall("ChoiceRequest")] == ["true"]
        chooser.events().clear()
        assert chooser.call(f'<Choose choice="{q.get("choice")}" dev="laptop"/>').get("status") == "ok"
        bob.wait_event("answered")
        assert laptop.wait_event("incoming")["from"] == "sip:bob@127.0.0.1:5172"
        assert not desk.events_named("incoming"), "only the chosen device rings"
        time.sleep(3)
        bob.send("hangup")
        laptop.wait_event("terminated")
        # The caller gives up while the user is still choosing: the choice goes away.
        chooser.events().clear()
        bob.send("dial sip:alice@127.0.0.1:5062")
        q = ask()
        bob.send("hangup")
        wait_for(lambda: any(m.tag == "ChoiceDone" and m.get("outcome") == "cancelled" for m in chooser.events()),
                 what="the choice cancelled")
        assert chooser.call(f'<Choose choice="{q.get("choice")}" dev="desk"/>').get("code") == "404"
        # Declined by the user: the caller gets 603.
        chooser.events().clear()
        bob.send("dial sip:alice@127.0.0.1:5062")
        q = ask()
        assert chooser.call(f'<Choose choice="{q.get("choice")}" decline="true"/>').get("status") == "ok"
        assert bob.wait_event("terminated", status=603)
        assert not desk.events_named("incoming"), "nobody picked the desk"
    finally:
        stop_all(*reversed(procs))
    hears(laptop.record, [500], 1300)
    hears(bob.record, [1300], 500)


def interrupt(proc, sig=signal.SIGINT, within=2.0):
    """Sends `sig` to a client command that is waiting; its exit status, or None if it
    was still running `within` seconds later."""
    assert proc.alive(), f"{proc.args[1:]} ended before the signal:\n{proc.output()}"
    proc.p.send_signal(sig)
    try:
        return proc.p.wait(within)
    except subprocess.TimeoutExpired:
        return None


def test_ctrl_c_ends_confab_events_at_once(tmp_path):
    """`confab events` prints events until interrupted: SIGINT (Ctrl-C) ends it within 2 s
    with status 130, SIGTERM with 143, and nothing but what it printed before (no trace)."""
    procs = []
    try:
        svc = start(procs, Service(tmp_path))
        for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            events = start(procs, svc.cli_proc(f"events-{sig.name}", "events"))
            wait_for(lambda: 'status="ok"' in events.output() or not events.alive(),
                     what="confab events to print the result of its Subscribe")
            rc = interrupt(events, sig)
            assert rc == status, f"{sig.name}: exit status {rc} (None: still running 2 s later)\n{events.output()}"
            lines = events.output().splitlines()
            assert len(lines) == 1 and lines[0].startswith("<Result "), events.output()
        assert svc.client().call("<Calls/>").get("status") == "ok"  # the service goes on
    finally:
        stop_all(*reversed(procs))


def test_ctrl_c_ends_a_client_command_waiting_for_its_result(tmp_path):
    """`confab join` waiting for a device that rings on, `confab external-join` waiting for
    the user's pick on the chooser: SIGINT ends each within 2 s with status 130."""
    procs = []
    try:
        dev = start(procs, Phone(tmp_path, "dev", 5176))  # rings until told to answer: never, here
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        join = start(procs, svc.cli_proc("join", "join", f"sip:room1@{CONF}"))
        dev.wait_event("incoming")
        rc = interrupt(join)
        assert rc == 130, f"join: exit status {rc} (None: still running 2 s later)\n{join.output()}"
        assert join.output() == "", join.output()  # no result came, and no trace
        chooser = svc.client()
        assert chooser.call('<Subscribe events="choices"/>').get("status") == "ok"
        pick = start(procs, svc.cli_proc("external-join", "external-join", f"sip:room2@{CONF}"))
        wait_for(lambda: any(m.tag == "ChoiceRequest" for m in chooser.events()) or not pick.alive(),
                 what="the ExternalJoin asking the chooser for a device")
        rc = interrupt(pick)
        assert rc == 130, f"external-join: exit status {rc} (None: still running 2 s later)\n{pick.output()}"
        assert pick.output() == "", pick.output()
        assert svc.client().call("<Calls/>").get("status") == "ok"  # the service goes on
        assert svc.alive()
    finally:
        stop_all(*reversed(procs))


def test_invite_reports_how_each_invitation_ended(tmp_path):
    """An Invite's result waits for the conference's report on each invitation (the REFER's
    final NOTIFY): a user the conference cannot reach makes it an error, not "sent". (Loopback
    ports where nothing listens: a DNS name would make the test depend on the machine's resolver.)"""
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer"))
        carol = start(procs, Phone(tmp_path, "carol", 5174, "--auto-answer"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk"))
        c = svc.client()
        assert c.call(f'<Join id="sip:room1@{CONF}"/>').get("status") == "ok"
        r = c.call('<Invite><Add id="sip:carol@127.0.0.1:5174"/><Add id="sip:bob@127.0.0.1:5199"/></Invite>', timeout=70)
        assert r.get("status") == "error" and r.get("code") == "502", r.attrib
        added = {a.get("id"): a.attrib for a in r.findall("Added")}
        assert added["sip:carol@127.0.0.1:5174"]["code"] == "200", added
        assert int(added["sip:bob@127.0.0.1:5199"]["code"]) >= 400, added  # the conference's INVITE failed
        carol.wait_event("media")
        rc, out, err = svc.cli("invite", "sip:dan@127.0.0.1:5198", timeout=80)
        assert rc == 1 and "502" in err and 'id="sip:dan@127.0.0.1:5198"' in out, (rc, out, err)
    finally:
        stop_all(*reversed(procs))


def test_one_device_is_the_default_and_the_service_cleans_up_when_it_stops(tmp_path):
    """With one device and no default_device, that device rings for incoming calls (once
    480). The service says where its TCP API really listens, says that it stopped, and
    leaves no token or chooser address behind."""
    procs = []
    try:
        dev = start(procs, Phone(tmp_path, "dev", 5176, "--auto-answer", "--tone", "900"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:dev@127.0.0.1:5176"], api_tcp="127.0.0.2:5165",
                                   web_api="127.0.0.1:5166"))
        token, chooser = svc.runtime / "confab" / "token", svc.runtime / "confab" / "chooser-url"
        assert token.exists() and chooser.exists()
        assert "tcp 127.0.0.2:5165" in svc.output() and "default device desk (the only one" in svc.output()
        bob = start(procs, Phone(tmp_path, "bob", 5172, "--tone", "500", "--from", "sip:bob@127.0.0.1:5172",
                                 "--dial", "sip:alice@127.0.0.1:5062"))
        assert dev.wait_event("incoming")["from"] == "sip:bob@127.0.0.1:5172"
        bob.wait_event("media")
        svc.stop()
        procs.remove(svc)
        assert "stopped (1 call ended)" in svc.output(), svc.output()
        assert not token.exists() and not chooser.exists()
        bob.wait_event("terminated")
    finally:
        stop_all(*reversed(procs))
    # A bad address is a clear error at start, not a random port.
    r = subprocess.run([CONFAB, "service", "--api-tcp", "127.0.0.1:x", "--api-socket", str(tmp_path / "s.sock")],
                       capture_output=True, text=True, timeout=10, env=dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path)))
    assert r.returncode == 1 and "api_tcp must be HOST:PORT" in r.stderr, r.stderr
