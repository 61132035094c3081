"""confab conference with real peers (confab phones, baresip, SIPp) on loopback:
ad-hoc conferences through the proxy and direct, the RFC 4575 event package,
RFC 4579 REFERs, the Replaces move, the admin API, limits and hostile input.
Audio is checked by content: each participant sends its own tone."""
import time
from pathlib import Path

import numpy as np

import conference_info
from confab_testlib import (Baresip, Conference, Mixer, Phone, Proxy, hears, longest_run, poll, read_wav,
                            sip_exchange, sip_request, start, stop_all, switch_gap_ms, tone_levels_db, tone_snr_db,
                            wait_for)

SERVER = "127.0.0.1:5080"
DOMAIN = "conf.example.com"


def notify_documents(directory):
    files = sorted(Path(directory).glob("notify-*.xml"), key=lambda p: int(p.stem.split("-")[1]))
    return [f.read_text() for f in files if f.stat().st_size]


def roster_now(phone):
    """The latest roster event of a subscribed phone (or {})."""
    events = [e for e in phone.events() if e.get("event") == "roster"]
    return events[-1] if events else {}


def wait_roster(phone, count, timeout=10):
    wait_for(lambda: roster_now(phone).get("count") == str(count), timeout=timeout,
             what=f"{phone.name}: roster of {count}")
    return roster_now(phone)


def user_count(doc):
    """user-count of a saved NOTIFY, or None while the phone is still writing it."""
    try:
        return conference_info.read(doc)[3]
    except Exception:
        return None


def participants(conf):
    """{conference: number of participants} from the admin API."""
    return {k: len(v["participants"]) for k, v in conf.conferences().items()}


def sipp_saw(tmp_path, scenario, text):
    """Whether SIPp (run with -trace_msg in tmp_path) has sent or received `text` in `scenario`."""
    return any(text in log.read_text(errors="replace") for log in Path(tmp_path).glob(f"*{scenario}_*_messages.log"))


def test_three_join_through_proxy_hear_each_other_and_the_roster_follows(tmp_path):
    proxy = Proxy(tmp_path, extra=["--route", f"{DOMAIN}=127.0.0.1:5080"])
    mixer = Mixer(tmp_path)
    conf = Conference(tmp_path, extra=["--domain", DOMAIN])
    notes = tmp_path / "notify"
    notes.mkdir()
    room = f"sip:room1@{DOMAIN}"
    via = ["--proxy", "sip:127.0.0.1:5060"]
    a = b = c = watcher = None
    try:
        a = Phone(tmp_path, "pa", 5172, "--tone", "450", "--volume", "0.2", "--from", "sip:alice@example.com", *via)
        a.send(f"dial {room}")
        a.wait_event("answered")
        # A watcher that is not a participant subscribes to the conference event package.
        watcher = Phone(tmp_path, "watch", 5178, "--save-notify", notes, "--from", "sip:watch@example.com", *via)
        watcher.send(f"subscribe {room}")
        wait_roster(watcher, 1)
        b = Phone(tmp_path, "pb", 5174, "--tone", "650", "--volume", "0.2", "--from", "sip:bob@example.com", *via)
        b.send(f"dial {room}")
        c = Baresip("bc", 5182, 850, volume=0.2, outbound="127.0.0.1:5060")
        rc, out = c.command("dial", room)
        assert rc == 0, out
        wait_roster(watcher, 3)
        assert set(conf.conferences()) == {"room1"}
        time.sleep(4.5)
        b.send("hangup")
        wait_roster(watcher, 2)
        docs = notify_documents(notes)
        assert len(docs) >= 3, docs
        states = [conference_info.read(d)[0] for d in docs]
        assert states[0] == "full" and "partial" in states[1:], states
        present = conference_info.replay(docs)
        assert present == {"sip:alice@example.com", "sip:bc@127.0.0.1:5182"}, present
        assert conference_info.read(docs[-1])[3] == 2
        mix = mixer.mixes()
        assert [m["mix"] for m in mix] == ["room1"] and len(mix[0]["legs"]) == 2
    finally:
        if c:
            c.command("hangup")
        stop_all(a, b, watcher, c)
        left = poll(conf.conferences, lambda rooms: rooms == {})  # the last BYE ends the conference
        stop_all(conf, mixer, proxy)
    assert left == {}, f"the conference outlived its participants: {left}"
    hears(a.record, [650, 850], 450)
    hears(b.record, [450, 850], 650)
    hears(c.recordings()[-1], [450, 650], 850)


def send_hostile_requests(local_port=5193):
    """Requests a conference server must refuse with a clear status (asserted),
    sent while conferences room1 and room2 are up."""
    base = ("{m} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK{n}\r\n"
            "From: <sip:x@127.0.0.1:{lp}>;tag={n}\r\nTo: <{ruri}>\r\nCall-ID: hostile-{n}\r\nCSeq: 1 {m}\r\n"
            "Contact: <sip:x@127.0.0.1:{lp}>\r\nMax-Forwards: 70\r\n{extra}Content-Length: {length}\r\n\r\n{body}")
    junk_xml = "<conference-info xmlns='urn:ietf:params:xml:ns:conference-info'><users><user"
    cases = [
        ("SUBSCRIBE", f"sip:nosuch@{SERVER}", "Event: conference\r\n", "", "404"),
        ("SUBSCRIBE", f"sip:room2@{SERVER}", "Event: presence\r\n", "", "489"),
        ("SUBSCRIBE", f"sip:room2@{SERVER}", "Event: conference\r\nAccept: text/plain\r\n", "", "406"),
        ("SUBSCRIBE", f"sip:room2@{SERVER}", "Event: conference\r\nContent-Type: application/conference-info+xml\r\n",
         junk_xml, "200"),
        ("REFER", f"sip:nosuch@{SERVER}", "Refer-To: <sip:a@127.0.0.1;method=BYE>\r\n", "", "404"),
        ("REFER", f"sip:room2@{SERVER}", "", "", "400"),
        ("REFER", f"sip:room2@{SERVER}", "Refer-To: <mailto:a@b>\r\n", "", "400"),
        ("INVITE", f"sip:room2@{SERVER}", "Replaces: nosuch;to-tag=1;from-tag=2\r\n", "", "481"),
        ("INVITE", f"sip:room2@{SERVER}", "Replaces: garbage\r\n", "", "400"),
        ("INVITE", f"sip:{'x' * 80}@{SERVER}", "", "", "400"),
        ("INVITE", f"sip:room2@{SERVER}", "Content-Type: application/sdp\r\n", "v=0\r\nm=audio x\r\n", "400"),
        ("INVITE", f"sip:room2@{SERVER}", "Content-Type: text/plain\r\n", "hello", "415"),
        ("INVITE", f"sip:{SERVER}", "", "", "404"),
    ]
    for n, (method, ruri, extra, body, expect) in enumerate(cases):
        text = base.format(m=method, ruri=ruri, n=n, lp=local_port, extra=extra, length=len(body), body=body)
        reply = sip_request(text.encode(), 5080, local_port=local_port)
        assert reply and reply.split(" ")[1] == expect, (method, ruri, extra, reply)
        if method == "INVITE":  # ACK the failure so the server stops retransmitting
            to = next(l for l in reply.split("\r\n") if l.lower().startswith("to:"))
            ack = base.format(m="ACK", ruri=ruri, n=n, lp=local_port, extra="", length=0, body="").replace(
                f"To: <{ruri}>", to)
            sip_exchange(ack.encode(), 5080, local_port=local_port, timeout=0.2)


def test_side_by_side_conferences_stay_isolated_and_end_with_their_last_participant(tmp_path):
    procs = []
    try:
        mixer = start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "450", "--volume", "0.2", "--dial", f"sip:one@{SERVER}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "650", "--volume", "0.2", "--dial", f"sip:one@{SERVER}"))
        c = start(procs, Phone(tmp_path, "c", 5176, "--tone", "850", "--volume", "0.2", "--dial", f"sip:two@{SERVER}"))
        d = start(procs, Phone(tmp_path, "d", 5178, "--tone", "1150", "--volume", "0.2", "--dial", f"sip:two@{SERVER}"))
        for p in (a, b, c, d):
            p.wait_event("answered")
        # An offerless INVITE (RFC 3725 flow I, as the client service sends): the
        # mixer's offer comes back in the 200, SIPp's answer goes in the ACK.
        from confab_testlib import run_sipp
        rc, err = run_sipp("uac_3pcc.xml", SERVER, 5190, tmp_path, template={"millis": 1500}, timeout=20,
                           extra=["-m", "1", "-key", "ruri", f"sip:two@{SERVER}", "-mp", "6200"])
        assert rc == 0, err
        rooms = conf.conferences()
        assert {k: len(v["participants"]) for k, v in rooms.items()} == {"one": 2, "two": 2}, rooms
        time.sleep(3.5)
        for p in (a, b, c, d):
            p.send("hangup")
        wait_for(lambda: conf.conferences() == {}, timeout=10, what="both conferences to end")
        wait_for(lambda: mixer.mixes() == [], timeout=10, what="the mixes to end")
    finally:
        stop_all(*reversed(procs))
    hears(a.record, [650], 450)
    hears(c.record, [1150], 850)
    for rec, strangers in ((a.record, [850, 1150]), (c.record, [450, 650])):
        x, rate = read_wav(rec)
        levels = tone_levels_db(x[int(1.5 * rate):int(4 * rate)], rate, strangers, 100)
        for f, v in levels.items():
            assert np.median(v) < -60, f"{rec.name}: tone {f} Hz leaked in from the other conference"


def test_refer_adds_a_user_and_refer_bye_removes_one(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "450", "--volume", "0.2", "--dial", f"sip:club@{SERVER}"))
        a.wait_event("answered")
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "650", "--volume", "0.2", "--auto-answer"))
        # RFC 4579: a REFER in A's dialog with the conference adds B (the server dials out).
        a.send("transfer sip:127.0.0.1:5174")
        b.wait_event("incoming")
        b.wait_event("media")
        wait_for(lambda: any(e.get("event") == "notify" and "200" in e.get("body", "") for e in a.events()),
                 what="the REFER's final NOTIFY (200) at A")
        people = conf.conferences()["club"]["participants"]
        assert sorted(p["joining"] for p in people) == ["dialed-in", "dialed-out"], people
        assert all(p["connected"] for p in people), people
        time.sleep(3)
        # Out of dialog, from anyone: Refer-To with method=BYE removes B.
        refer = ("REFER sip:club@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5191;branch=z9hG4bKrb1\r\n"
                 "From: <sip:admin@127.0.0.1:5191>;tag=r1\r\nTo: <sip:club@127.0.0.1:5080>\r\nCall-ID: refer-bye-1\r\n"
                 "CSeq: 1 REFER\r\nContact: <sip:admin@127.0.0.1:5191>\r\nMax-Forwards: 70\r\n"
                 "Refer-To: <sip:127.0.0.1:5174;method=BYE>\r\nContent-Length: 0\r\n\r\n")
        reply = sip_request(refer.encode(), 5080, local_port=5191)
        assert reply and reply.startswith("SIP/2.0 202"), reply
        b.wait_event("terminated")
        wait_for(lambda: len(conf.conferences()["club"]["participants"]) == 1, what="B to be gone")
        # Removing someone who is not there, or from a conference that does not exist: clear errors.
        for ruri, target, expect in (("sip:club@127.0.0.1:5080", "sip:nobody@127.0.0.1;method=BYE", "404"),
                                     ("sip:nowhere@127.0.0.1:5080", "sip:127.0.0.1:5174;method=BYE", "404"),
                                     ("sip:club@127.0.0.1:5080", "sip:127.0.0.1:5174;method=MESSAGE", "400")):
            bad = refer.replace("sip:club@127.0.0.1:5080 SIP", f"{ruri} SIP").replace(
                "<sip:127.0.0.1:5174;method=BYE>", f"<{target}>").replace("refer-bye-1", f"refer-{expect}-{target}")
            reply = sip_request(bad.encode(), 5080, local_port=5191)
            assert reply and reply.startswith(f"SIP/2.0 {expect}"), (target, reply)
        # Adding someone to a conference that does not exist yet creates it, as an INVITE would (ad hoc).
        fresh = refer.replace("sip:club@127.0.0.1:5080 SIP", "sip:fresh@127.0.0.1:5080 SIP").replace(
            "<sip:127.0.0.1:5174;method=BYE>", "<sip:127.0.0.1:5174>").replace("refer-bye-1", "refer-fresh")
        reply = sip_request(fresh.encode(), 5080, local_port=5191)
        assert reply and reply.startswith("SIP/2.0 202"), reply
        wait_for(lambda: [p["joining"] for p in conf.conferences().get("fresh", {}).get("participants", [])]
                 == ["dialed-out"], what="B dialled into the new conference")
    finally:
        stop_all(*reversed(procs))
    x, rate = read_wav(b.record)
    assert len(x) > 3 * rate
    hears(b.record, [450], 650, skip=1.0, keep=2.0)


def test_replaces_moves_a_participant_between_conferences_without_gap(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        mover = start(procs, Phone(tmp_path, "mover", 5172, "--tone", "500", "--volume", "0.2",
                                   "--from", "sip:mover@example.com", "--dial", f"sip:room1@{SERVER}"))
        start(procs, Phone(tmp_path, "r1", 5174, "--tone", "900", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        start(procs, Phone(tmp_path, "r2", 5176, "--tone", "1300", "--volume", "0.2", "--dial", f"sip:room2@{SERVER}"))
        w1 = start(procs, Phone(tmp_path, "w1", 5178))
        w2 = start(procs, Phone(tmp_path, "w2", 5180))
        wait_for(lambda: {k: len(v["participants"]) for k, v in conf.conferences().items()} == {"room1": 2, "room2": 1},
                 what="three participants")
        w1.send(f"subscribe sip:room1@{SERVER}")
        w2.send(f"subscribe sip:room2@{SERVER}")
        wait_roster(w1, 2)
        wait_roster(w2, 1)
        time.sleep(2)
        mover.send(f"move sip:room2@{SERVER}")
        at = int(mover.wait_event("moving")["t_ms"])
        mover.wait_event("answered", call="c2")
        assert "sip:mover@example.com" not in wait_roster(w1, 1)["members"]
        assert "sip:mover@example.com" in wait_roster(w2, 2)["members"]
        wait_for(lambda: participants(conf) == {"room1": 1, "room2": 2}, what="the mover counted in room2, not room1",
                 state=lambda: participants(conf))
        mover.wait_event("terminated", call="c1")
        calls = [e for e in mover.events() if e.get("event") == "terminated"]
        assert [e["call"] for e in calls] == ["c1"], calls  # the replaced dialog ended, the new one lives
        # A Replaces naming no dialog here: 481 (RFC 3891).
        w1.send(f"dial sip:room2@{SERVER}?Replaces=nosuch%3Bto-tag%3D1%3Bfrom-tag%3D2")
        assert w1.wait_event("terminated")["status"] == "481"
    finally:
        stop_all(*reversed(procs))
    gap, switch = switch_gap_ms(mover.record, at, 900, 1300)
    print(f"Replaces move: gap {max(gap, 0)} ms, new conference heard {switch} ms after the INVITE")
    assert gap <= 20, f"{gap} ms of silence between the conferences"
    assert switch <= 100, f"the new conference arrived {switch} ms after the INVITE"


def test_admin_api_lists_moves_mutes_and_removes(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "900", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        start(procs, Phone(tmp_path, "c", 5176, "--tone", "1300", "--volume", "0.2", "--dial", f"sip:room2@{SERVER}"))
        watch = start(procs, Phone(tmp_path, "w", 5178))
        wait_for(lambda: {k: len(v["participants"]) for k, v in conf.conferences().items()} == {"room1": 2, "room2": 1},
                 what="three participants")
        watch.send(f"subscribe sip:room2@{SERVER}")
        wait_roster(watch, 1)
        assert conf.admin("GET", "/conferences", token="wrong")[0] == 401
        status, room1 = conf.admin("GET", "/conferences/room1")
        assert status == 200 and room1["uri"] == f"sip:room1@{SERVER}", room1
        mover = next(p["id"] for p in room1["participants"] if p["contact"].endswith(":5172"))
        time.sleep(2)
        at = a.events()[-1]  # the recording's clock, to line the move up with the audio
        t0 = time.monotonic()
        status, body = conf.admin("POST", f"/participants/{mover}/move", {"to": "room2"})
        moved_at = int(at["t_ms"]) + int((time.monotonic() - t0) * 1000)
        assert status == 200, body
        assert wait_roster(watch, 2)
        time.sleep(1.5)
        # Mute c: the others stop hearing it, the roster says so.
        c_id = next(p["id"] for p in conf.conferences()["room2"]["participants"] if p["contact"].endswith(":5176"))
        status, body = conf.admin("POST", f"/participants/{c_id}/mute", {"muted": True})
        assert status == 200, body
        wait_for(lambda: "muted-via-focus" in roster_now(watch).get("members", ""), what="muted-via-focus in the roster")
        muted_at = int(a.events()[-1]["t_ms"])
        time.sleep(1.5)
        status, body = conf.admin("DELETE", f"/participants/{c_id}")
        assert status == 200, body
        wait_roster(watch, 1)
        for method, path, body, expect in (("POST", "/participants/p999/move", {"to": "x"}, 404),
                                           ("POST", f"/participants/{mover}/move", {"to": "bad id!"}, 400),
                                           ("POST", f"/participants/{mover}/move", {}, 400),
                                           ("POST", f"/participants/{mover}/fly", {}, 404),
                                           ("DELETE", "/participants/p999", None, 404),
                                           ("GET", "/conferences/nosuch", None, 404)):
            assert conf.admin(method, path, body)[0] == expect, (method, path)
        b.send("hangup")
    finally:
        stop_all(*reversed(procs))
    x, rate = read_wav(a.record)
    levels = tone_levels_db(x, rate, [900, 1300], window_ms=10)
    hz900 = [i for i in range(len(levels[900])) if levels[900][i] > -30]
    hz1300 = [i for i in range(moved_at // 10 - 50, len(levels[1300])) if levels[1300][i] > -30]
    assert hz900 and hz1300
    gap = (hz1300[0] - max(i for i in hz900 if i < hz1300[0]) - 1) * 10
    assert gap <= 20, f"admin move: {gap} ms of silence"
    # After the mute, c's tone is gone from what a hears.
    after = levels[1300][muted_at // 10 + 30: muted_at // 10 + 120]
    assert np.median(after) < -50, f"muted participant still heard ({np.median(after):.0f} dB)"


def test_limits_and_hostile_input_leave_other_conferences_alone(tmp_path):
    cfg = tmp_path / "conference.toml"
    cfg.write_text("[conference]\nmax_participants = 2\nmax_conferences = 2\nmax_subscribers = 20\n")
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path, extra=["--config", cfg]))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "900", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        a.wait_event("answered")
        b.wait_event("answered")
        # Over the limits: a third participant (486), a third conference (503).
        c = start(procs, Phone(tmp_path, "c", 5176, "--dial", f"sip:room1@{SERVER}"))
        assert c.wait_event("terminated")["status"] == "486"
        d = start(procs, Phone(tmp_path, "d", 5178, "--dial", f"sip:room2@{SERVER}"))
        d.wait_event("answered")
        e = start(procs, Phone(tmp_path, "e", 5180, "--dial", f"sip:room3@{SERVER}"))
        assert e.wait_event("terminated")["status"] == "503"
        hostile_from = time.time() * 1000 - a.epoch_ms()
        # A SUBSCRIBE flood: 20 accepted, the rest refused with 503; nothing else suffers.
        from confab_testlib import run_sipp
        rc, err = run_sipp("subscribe_conference.xml", SERVER, 5192, tmp_path, timeout=40,
                           extra=["-m", "200", "-r", "100", "-l", "50", "-aa", "-key", "ruri", f"sip:room1@{SERVER}"])
        assert rc == 0, err
        assert conf.conferences()["room1"]["subscribers"] == 20
        # Bogus and hostile requests get clear answers.
        send_hostile_requests()
        assert conf.alive()
        time.sleep(2)  # room1's audio goes on being recorded: the window checked for gaps below
        hostile_to = time.time() * 1000 - a.epoch_ms()
        assert {k: len(v["participants"]) for k, v in conf.conferences().items()} == {"room1": 2, "room2": 1}
    finally:
        stop_all(*reversed(procs))
    hears(a.record, [900], 500)
    hears(b.record, [500], 900)
    x, rate = read_wav(a.record)
    levels = tone_levels_db(x[int(hostile_from / 1000 * rate):int(hostile_to / 1000 * rate)], rate, [900], 10)[900]
    assert len(levels) > 100
    assert longest_run(levels < -30) * 10 <= 60, "a gap in room1 during the hostile traffic"


def test_a_burst_of_joins_is_coalesced_into_few_notifies(tmp_path):
    notes = tmp_path / "notify"
    notes.mkdir()
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "a", 5172, "--dial", f"sip:burst@{SERVER}")).wait_event("answered")
        watch = start(procs, Phone(tmp_path, "w", 5178, "--save-notify", notes, "--subscribe", f"sip:burst@{SERVER}"))
        wait_roster(watch, 1)
        # 30 SIPp calls within ~0.15 s, all in the conference at once for 3 s.
        from confab_testlib import start_sipp
        sipp = start_sipp("uac", SERVER, 5194, tmp_path, timeout=30,
                          extra=["-m", "30", "-r", "200", "-l", "30", "-d", "3000", "-s", "burst"])
        procs.append(sipp)
        wait_for(lambda: len(conf.conferences()["burst"]["participants"]) == 31, timeout=10, what="31 participants")
        docs = wait_for(lambda: (d := notify_documents(notes)) and user_count(d[-1]) == 31 and d, timeout=5,
                        what="the NOTIFY of all 31 (coalesced)", state=lambda: len(notify_documents(notes)))
        endpoints = len(conference_info.validate(docs[-1]).findall(".//{%s}endpoint" % conference_info.NS))
        assert conference_info.read(docs[-1])[3] == 31
        sipp.p.wait(20)
        wait_roster(watch, 1)
    finally:
        stop_all(*reversed(procs))
    joined = docs[1:]
    print(f"30 joins within ~150 ms: {len(joined)} NOTIFYs to the watcher")
    assert 1 <= len(joined) <= 8, f"{len(joined)} NOTIFYs for a burst of 30 joins: not coalesced"
    assert endpoints == 30, endpoints  # the last partial: the one SIPp user, with its 30 devices
    assert conference_info.replay(notify_documents(notes)) == {"sip:phone@127.0.0.1:5172"}


def test_hold_by_update_and_resume_by_reinvite_are_relayed_and_shown(tmp_path):
    procs = []
    try:
        mixer = start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        start(procs, Phone(tmp_path, "a", 5172, "--dial", f"sip:hold@{SERVER}")).wait_event("answered")
        watch = start(procs, Phone(tmp_path, "w", 5178, "--subscribe", f"sip:hold@{SERVER}"))
        wait_roster(watch, 1)
        from confab_testlib import start_sipp
        sipp = start(procs, start_sipp("uac_update_hold.xml", SERVER, 5195, tmp_path, timeout=30, template={"pause": 1500},
                                       extra=["-m", "1", "-key", "ruri", f"sip:hold@{SERVER}", "-mp", "6300"]))
        wait_for(lambda: "holder@127.0.0.1:5195:on-hold" in roster_now(watch).get("members", ""), what="on-hold shown")
        legs = {l["remote"]: l for m in mixer.mixes() for l in m["legs"]}
        assert legs["127.0.0.1:6300"]["send"] is False, legs  # the mixer no longer sends to the held party
        wait_for(lambda: "holder@127.0.0.1:5195:connected" in roster_now(watch).get("members", ""), what="resumed")
        assert sipp.p.wait(20) == 0, sipp.output()
        wait_roster(watch, 1)
    finally:
        stop_all(*reversed(procs))


def test_subscriptions_are_capped_and_expire(tmp_path):
    cfg = tmp_path / "conference.toml"
    cfg.write_text("[conference]\nmax_subscription_expires = 3\n")
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path, extra=["--config", cfg]))
        start(procs, Phone(tmp_path, "a", 5172, "--dial", f"sip:exp@{SERVER}")).wait_event("answered")
        from confab_testlib import run_sipp
        t0 = time.monotonic()
        rc, err = run_sipp("subscribe_expiry.xml", SERVER, 5196, tmp_path, timeout=20,
                           template={"expires": 3600, "granted": 3, "wait_ms": 8000},
                           extra=["-m", "1", "-key", "ruri", f"sip:exp@{SERVER}"])
        took = time.monotonic() - t0
        assert rc == 0, err
        assert 2.5 <= took <= 8, f"the subscription ended after {took:.1f} s, granted 3"
        assert conf.conferences()["exp"]["subscribers"] == 0
    finally:
        stop_all(*reversed(procs))


def test_a_cancelled_join_cancels_the_mixer_leg(tmp_path):
    procs = []
    try:
        # A mixer that only rings, so the participant's INVITE is still pending when cancelled.
        # It starts after the server's OPTIONS to its mixer (which its one-call scenario would abort on).
        from confab_testlib import start_sipp
        conf = start(procs, Conference(tmp_path, mixer="sip:127.0.0.1:5097"))
        wait_for(lambda: "the mixer at sip:127.0.0.1:5097 does not answer" in conf.output(), what="the mixer check")
        ringer = start(procs, start_sipp("uas_ring_cancelled_direct.xml", None, 5097, tmp_path, timeout=20,
                                         extra=["-m", "1", "-trace_msg"]))
        a = start(procs, Phone(tmp_path, "a", 5172, "--dial", f"sip:slow@{SERVER}"))
        wait_for(lambda: "slow" in conf.conferences(), what="the pending join")
        wait_for(lambda: sipp_saw(tmp_path, "uas_ring_cancelled_direct", "SIP/2.0 180 Ringing"),
                 what="the mixer leg ringing")
        a.send("hangup")
        assert a.wait_event("terminated")["status"] == "487"
        assert ringer.p.wait(15) == 0, ringer.output()
        wait_for(lambda: conf.conferences() == {}, what="the conference to end")
    finally:
        stop_all(*reversed(procs))


def test_a_vanished_participant_is_ended_by_the_mixers_rtp_timeout(tmp_path):
    import signal
    procs = []
    try:
        start(procs, Mixer(tmp_path, extra=["--rtp-timeout", "2"]))
        conf = start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--dial", f"sip:gone@{SERVER}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "900", "--dial", f"sip:gone@{SERVER}"))
        watch = start(procs, Phone(tmp_path, "w", 5178, "--subscribe", f"sip:gone@{SERVER}"))
        wait_roster(watch, 2)
        b.p.send_signal(signal.SIGSTOP)  # b vanishes: no RTP, no SIP answers
        wait_roster(watch, 1, timeout=15)
        assert "127.0.0.1:5174" not in roster_now(watch)["members"]
        assert len(conf.conferences()["gone"]["participants"]) == 1
        b.p.send_signal(signal.SIGCONT)
    finally:
        stop_all(*reversed(procs))


def test_refer_reaches_a_user_registered_at_the_outbound_proxy(tmp_path):
    """--outbound-proxy: an RFC 4579 REFER adding sip:bob@example.com, a user
    registered at the proxy (the server alone would look example.com up in DNS and
    fail), reaches bob through the proxy, and bob hears the conference."""
    procs = []
    try:
        start(procs, Proxy(tmp_path, extra=["--domain", "example.com"]))
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path, extra=["--outbound-proxy", "sip:127.0.0.1:5060"]))
        bob = start(procs, Phone(tmp_path, "bob", 5174, "--register", "sip:bob@example.com", "--proxy",
                                 "sip:127.0.0.1:5060", "--auto-answer", "--tone", "650", "--volume", "0.2"))
        bob.wait_event("registration", status=200)
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "450", "--volume", "0.2", "--dial", f"sip:club@{SERVER}"))
        a.wait_event("answered")
        # Out of dialog, from anyone: Refer-To a user of the proxy's domain adds that user.
        refer = ("REFER sip:club@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5191;branch=z9hG4bKop1\r\n"
                 "From: <sip:admin@127.0.0.1:5191>;tag=o1\r\nTo: <sip:club@127.0.0.1:5080>\r\nCall-ID: refer-proxy-1\r\n"
                 "CSeq: 1 REFER\r\nContact: <sip:admin@127.0.0.1:5191>\r\nMax-Forwards: 70\r\n"
                 "Refer-To: <sip:bob@example.com>\r\nContent-Length: 0\r\n\r\n")
        reply = sip_request(refer.encode(), 5080, local_port=5191)
        assert reply and reply.startswith("SIP/2.0 202"), reply
        assert bob.wait_event("incoming")["from"].startswith("sip:club@"), bob.events_named("incoming")
        bob.wait_event("media")

        def bob_joined():
            people = conf.conferences().get("club", {}).get("participants", [])
            return sorted(p["joining"] for p in people if p["connected"]) == ["dialed-in", "dialed-out"]
        wait_for(bob_joined, what="bob connected in the conference")
        time.sleep(4)
    finally:
        stop_all(*reversed(procs))
    assert "dialling out to sip:bob@example.com for sip:admin@127.0.0.1:5191 (through sip:127.0.0.1:5060)" \
        in conf.output(), conf.output()[-3000:]
    joined = int(bob.wait_event("media")["t_ms"]) / 1000  # on bob's recording's axis
    hears(bob.record, [450], 650, skip=joined + 0.5, keep=2.5)


def levels_between(phone, t0_ms, t1_ms, freqs):
    """Median level (dB) of each of `freqs` in `phone`'s recording between two times of its clock."""
    x, rate = read_wav(phone.record)
    part = x[t0_ms * rate // 1000:t1_ms * rate // 1000]
    assert len(part) > rate // 2, f"{phone.name}: {len(part) / rate:.2f} s between {t0_ms} and {t1_ms} ms"
    return {f: float(np.median(v)) for f, v in tone_levels_db(part, rate, freqs, window_ms=100).items()}


def test_listen_links_let_a_participant_hear_another_conference_at_a_gain(tmp_path):
    """Issue 11's cross-fade between zones: the admin API links A (room1) to room2
    at -12 dB. A hears room1 as before plus room2 12 dB below its level in room2;
    speaking stays in one conference (nobody hears A anywhere new); the link
    survives an admin move of A to room3 and a Replaces move back to room1; db
    null ends it; bad requests get clear errors."""
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "700", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        c = start(procs, Phone(tmp_path, "c", 5176, "--tone", "900", "--volume", "0.2", "--dial", f"sip:room2@{SERVER}"))
        d = start(procs, Phone(tmp_path, "d", 5178, "--dial", f"sip:room2@{SERVER}"))  # hears room2 alone: the reference
        phones = [a, b, c, d]
        wait_for(lambda: participants(conf) == {"room1": 2, "room2": 2}, what="four participants",
                 state=lambda: participants(conf))
        pid = next(p["id"] for p in conf.conferences()["room1"]["participants"] if p["contact"].endswith(":5172"))
        links = lambda: next(p["listening"] for r in conf.conferences().values() for p in r["participants"]
                             if p["id"] == pid)
        listen = lambda body: conf.admin("POST", f"/participants/{pid}/listen", body)
        a.record_until(a.clock_ms() + 1500)
        linked = {p.name: p.clock_ms() for p in phones}
        status, body = listen({"conference": "room2", "db": -12})
        assert status == 200, body
        assert links() == [{"conference": "room2", "db": -12}]
        a.record_until(linked["a"] + 2500)
        moved = {p.name: p.clock_ms() for p in phones}
        status, body = conf.admin("POST", f"/participants/{pid}/move", {"to": "room3"})
        assert status == 200, body
        wait_for(lambda: participants(conf) == {"room1": 1, "room2": 2, "room3": 1}, what="a in room3",
                 state=lambda: participants(conf))
        assert links() == [{"conference": "room2", "db": -12}]  # the mixer leg kept it
        a.record_until(moved["a"] + 2500)
        replaced = {p.name: p.clock_ms() for p in phones}
        a.send(f"move sip:room1@{SERVER}")  # INVITE with Replaces: the same mixer leg again
        a.wait_event("answered", call="c2")
        wait_for(lambda: participants(conf) == {"room1": 2, "room2": 2}, what="a back in room1 by Replaces",
                 state=lambda: participants(conf))
        assert links() == [{"conference": "room2", "db": -12}]
        a.record_until(replaced["a"] + 2500)
        unlinked = {p.name: p.clock_ms() for p in phones}
        status, body = listen({"conference": "room2", "db": None})
        assert status == 200, body
        assert links() == []
        for path, body, expect in (("/participants/p999/listen", {"conference": "room2", "db": -12}, 404),
                                   (f"/participants/{pid}/listen", {"conference": "bad id!", "db": -12}, 400),
                                   (f"/participants/{pid}/listen", {"conference": "room2", "db": 20}, 400),
                                   (f"/participants/{pid}/listen", {"conference": "room2", "db": "loud"}, 400),
                                   (f"/participants/{pid}/listen", {"conference": "room2"}, 400),
                                   (f"/participants/{pid}/listen", {"db": -12}, 400),
                                   (f"/participants/{pid}/listen", {"conference": "room1", "db": -6}, 400)):  # its own
            assert conf.admin("POST", path, body)[0] == expect, (path, body)
        # The mixer's own limit (8 links a leg) comes back as 502 with its reason.
        for n in range(8):
            assert listen({"conference": f"zone{n}", "db": -20})[0] == 200
        status, body = listen({"conference": "zone8", "db": -20})
        assert status == 502 and "at most 8" in body["error"], (status, body)
        for n in range(8):
            assert listen({"conference": f"zone{n}", "db": None})[0] == 200
        assert links() == []
        a.record_until(unlinked["a"] + 2000)
        end = {p.name: p.clock_ms() for p in phones}
    finally:
        stop_all(*reversed(procs))
    tones = [500, 700, 900]
    between = lambda p, t0, t1: levels_between(p, t0[p.name] + 300, t1[p.name] - 100, tones)
    before = {p.name: levels_between(p, linked[p.name] - 1400, linked[p.name] - 100, tones) for p in phones}
    linked_in_room1 = {p.name: between(p, linked, moved) for p in phones}
    linked_in_room3 = {p.name: between(p, moved, replaced) for p in phones}
    replaced_in_room1 = {p.name: between(p, replaced, unlinked) for p in phones}
    after = {p.name: between(p, unlinked, end) for p in phones}
    heard, alone = linked_in_room1["a"], linked_in_room1["d"]
    print(f"a hears room2 at {heard[900]:.1f} dB, room2 alone at {alone[900]:.1f} dB, room1 at {heard[700]:.1f} dB")
    assert before["a"][900] < -50, before["a"]
    assert heard[700] > -30 and abs(heard[700] - before["a"][700]) <= 1, (before["a"], heard)
    assert abs(heard[900] - (alone[900] - 12)) <= 3, (heard, alone)
    assert heard[500] < -50, heard
    assert abs(linked_in_room1["b"][500] - before["b"][500]) <= 1, (before["b"], linked_in_room1["b"])
    for name in ("b", "c", "d"):  # speaking stays in one conference
        levels = linked_in_room1[name]
        assert levels[900 if name == "b" else 500] < -50, (name, levels)
    in_room3 = linked_in_room3["a"]
    assert abs(in_room3[900] - (linked_in_room3["d"][900] - 12)) <= 3, (in_room3, linked_in_room3["d"])
    assert in_room3[700] < -50, in_room3
    assert linked_in_room3["c"][500] < -50, linked_in_room3["c"]
    back = replaced_in_room1["a"]
    assert back[700] > -30 and abs(back[900] - (replaced_in_room1["d"][900] - 12)) <= 3, (back, replaced_in_room1["d"])
    assert after["a"][900] < -50 and after["a"][700] > -30, after["a"]
