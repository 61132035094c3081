"""confab mixer with real peers (confab phones, baresip, SIPp) on loopback.
Audio is checked by content: every participant sends its own tone and each
recording must hold every other participant's tone and not its own."""
import json
import time

import numpy as np
import pytest

from confab_testlib import (Baresip, Mixer, Phone, read_wav, run_sipp, sip_exchange, start_sipp, tone_levels_db,
                            tone_snr_db, longest_run, wait_for, write_rtp_pcap)

MIXER = "127.0.0.1:5090"
CONTROL = "application/vnd.confab.mixer+json"


def analyse(path, others, own, skip=1.0, keep=3.0):
    """(level dB of each expected tone, level of own tone, SNR of the expected set)."""
    x, rate = read_wav(path)
    x = x[int(skip * rate):int((skip + keep) * rate)]
    assert len(x) > rate, f"{path}: recording too short ({len(x) / rate:.1f} s)"
    levels = tone_levels_db(x, rate, list(others) + [own], window_ms=100)
    mean = {f: float(np.median(v)) for f, v in levels.items()}
    tmp = str(path) + ".part.wav"
    import wave
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    return {f: mean[f] for f in others}, mean[own], tone_snr_db(tmp, list(others), skip=0)


def check_hears(name, path, others, own, min_snr=30.0):
    expected, own_level, snr = analyse(path, others, own)
    for f, level in expected.items():
        assert level > -40, f"{name} does not hear {f} Hz ({level:.1f} dB): {expected}"
    assert own_level < min(expected.values()) - 30, f"{name} hears itself: own {own_level:.1f} dB vs {expected}"
    assert snr >= min_snr, f"{name}: SNR of the expected tones {snr:.1f} dB < {min_snr}"
    return snr


def test_four_participants_phones_and_baresip(tmp_path):
    mixer = Mixer(tmp_path)
    phones, uas = [], []
    try:
        phones = [Phone(tmp_path, "pa", 5172, "--tone", "450", "--volume", "0.2", "--dial", "sip:room1@" + MIXER),
                  Phone(tmp_path, "pb", 5174, "--tone", "650", "--volume", "0.2", "--dial", "sip:room1@" + MIXER)]
        uas = [Baresip("bc", 5182, 850, volume=0.2), Baresip("bd", 5184, 1150, volume=0.2)]
        for ua in uas:
            rc, out = ua.command("dial", "sip:room1@" + MIXER)
            assert rc == 0, out
        wait_for(lambda: sum(len(m["legs"]) for m in mixer.mixes()) == 4, timeout=10, what="4 legs")
        mix = mixer.mixes()
        assert [m["mix"] for m in mix] == ["room1"]
        time.sleep(5)
        for ua in uas:
            ua.command("hangup")
        for p in phones:
            p.quit()
        wait_for(lambda: mixer.mixes() == [], timeout=10, what="the mix to end with its last leg")
    finally:
        for ua in uas:
            ua.stop()
        for p in phones:
            p.stop()
        mixer.stop()
    tones = {"pa": 450, "pb": 650, "bc": 850, "bd": 1150}
    recordings = {"pa": phones[0].record, "pb": phones[1].record,
                  "bc": uas[0].recordings()[-1], "bd": uas[1].recordings()[-1]}
    for name, path in recordings.items():
        check_hears(name, path, [f for n, f in tones.items() if n != name], tones[name])


def test_mixed_codecs_share_one_mix(tmp_path):
    mixer = Mixer(tmp_path)
    specs = [("pcmu", 5172, 450), ("pcma", 5174, 650), ("g722", 5176, 850), ("opus", 5178, 1150)]
    phones = []
    try:
        for codec, port, tone in specs:
            phones.append(Phone(tmp_path, codec, port, "--codec", codec, "--tone", str(tone), "--volume", "0.2",
                                "--dial", "sip:mixed@" + MIXER))
        for p, (codec, _, _) in zip(phones, specs):
            media = p.wait_event("media")
            assert media["codec"].lower() == codec, media
        codecs = lambda: sorted(l["codec"].lower() for m in mixer.mixes() for l in m["legs"])
        wait_for(lambda: codecs() == sorted(c for c, _, _ in specs), what="the four legs in the mix", state=codecs)
        time.sleep(5)  # audio for check_hears; the mix must still be the same after it
        mix = mixer.mixes()[0]
        assert sorted(l["codec"].lower() for l in mix["legs"]) == sorted(c for c, _, _ in specs)
        assert mix["rate"] == 48000  # opus makes it a fullband mix
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    for p, (codec, _, tone) in zip(phones, specs):
        check_hears(codec, p.record, [t for _, _, t in specs if t != tone], tone)


def test_lossy_jittery_leg_is_concealed_for_the_others(tmp_path):
    """One leg (SIPp playing a capture with 5% loss and 40 ms of jitter, so also
    reordering) must reach the others without gaps longer than 60 ms."""
    pcap = tmp_path / "lossy.pcap"
    sent, dropped = write_rtp_pcap(pcap, 700, seconds=6, loss=0.05, jitter_ms=40, seed=7)
    assert dropped > 10
    mixer = Mixer(tmp_path)
    listeners = []
    try:
        listeners = [Phone(tmp_path, "l1", 5172, "--tone", "500", "--volume", "0.2", "--dial", "sip:lossy@" + MIXER),
                     Phone(tmp_path, "l2", 5174, "--tone", "1100", "--volume", "0.2", "--dial", "sip:lossy@" + MIXER)]
        for p in listeners:
            p.wait_event("media")
        rc, log = run_sipp("uac_rtp_pcap.xml", MIXER, 5094, tmp_path, timeout=30,
                           template={"pcap": pcap, "millis": 6500},
                           extra=["-m", "1", "-key", "ruri", "sip:lossy@" + MIXER, "-mp", "6100"])
        assert rc == 0, log
    finally:
        for p in listeners:
            p.quit()
        mixer.stop()
    for p in listeners:
        x, rate = read_wav(p.record)
        level = tone_levels_db(x, rate, [700], window_ms=10)[700]
        active = np.nonzero(level > -30)[0]
        assert len(active) > 300, f"{p.name} hardly hears the lossy leg"
        span = level[active[0]:active[-1]]  # while the lossy leg was in the call
        threshold = float(np.median(span)) - 12
        gap_ms = longest_run(span < threshold) * 10
        assert gap_ms <= 60, f"{p.name}: the lossy leg drops out for {gap_ms} ms"


def test_move_between_mixes_without_gap(tmp_path):
    mixer = Mixer(tmp_path)
    phones = []
    try:
        mover = Phone(tmp_path, "mover", 5172, "--tone", "500", "--volume", "0.2", "--dial", "sip:one@" + MIXER)
        phones = [mover,
                  Phone(tmp_path, "one", 5174, "--tone", "900", "--volume", "0.2", "--dial", "sip:one@" + MIXER),
                  Phone(tmp_path, "two-a", 5176, "--tone", "1300", "--volume", "0.2", "--dial", "sip:two@" + MIXER),
                  Phone(tmp_path, "two-b", 5178, "--tone", "1700", "--volume", "0.2", "--dial", "sip:two@" + MIXER)]
        for p in phones:
            p.wait_event("media")
        time.sleep(2)
        mover.send(f'info {CONTROL} {{"action":"move","mix":"two"}}')
        sent = int(mover.wait_event("info-sent")["t_ms"])
        assert mover.wait_event("info-response")["status"] == "200"
        legs_per_mix = lambda: {m["mix"]: len(m["legs"]) for m in mixer.mixes()}
        wait_for(lambda: legs_per_mix() == {"one": 1, "two": 3}, what="the mover's leg in mix two",
                 state=legs_per_mix)
        # Bad control bodies are refused, the call stays.
        mover.send(f'info {CONTROL} {{"action":"fly"}}')
        assert mover.wait_event("info-response", status=400)
        mover.send('info text/plain move')
        assert mover.wait_event("info-response", status=415)
        mover.record_until(sent + 2000)  # the analysis below reads 1.2 s of the new mix
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    x, rate = read_wav(mover.record)
    levels = tone_levels_db(x, rate, [900, 1300, 1700], window_ms=10)
    # The recording's time axis is the phone's clock, as is t_ms of the INFO.
    at = sent // 10
    old_last = max(i for i in range(len(levels[900])) if levels[900][i] > -30)
    new_first = next(i for i in range(at, len(levels[1300])) if levels[1300][i] > -30)
    assert old_last > at - 5, "the old mix went silent before the move"
    gap = (new_first - old_last - 1) * 10
    assert gap <= 20, f"{gap} ms of silence between the mixes"
    # The move takes effect at the mixer's next 20 ms tick; the recording then
    # lags the mixer by the phone's receive path (jitter buffer ~30 ms), the
    # same before and after the move. Measured here: 50 ms, gap 0.
    switch = (new_first - at) * 10
    print(f"move: new mix heard {switch} ms after the INFO, gap {max(gap, 0)} ms")
    assert switch <= 60, f"the new mix arrived {switch} ms after the INFO"
    after = slice(new_first + 20, new_first + 120)
    assert np.median(levels[1700][after]) > -30 and np.median(levels[900][after]) < -50


def invite_text(port, ruri, sdp, call_id):
    return (f"INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}\r\n"
            f"From: <sip:t@127.0.0.1:{port}>;tag=1\r\nTo: <{ruri}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:t@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")


def final_status(port, text):
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(3)
    s.sendto(text.encode("latin-1"), ("127.0.0.1", 5090))
    try:
        while True:
            reply = s.recv(65535).decode(errors="replace")
            status = int(reply.split(" ")[1])
            if status >= 200:
                if status >= 300:  # ACK the failure
                    to = next(l for l in reply.split("\r\n") if l.lower().startswith("to:"))
                    via = next(l for l in text.split("\r\n") if l.startswith("Via:"))
                    ack = text.split("\r\n")[0].replace("INVITE", "ACK", 1) + f"\r\n{via}\r\n" + \
                        "\r\n".join(l for l in text.split("\r\n")[2:5] if l.startswith(("From", "Call-ID"))) + \
                        f"\r\n{to}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
                    s.sendto(ack.encode(), ("127.0.0.1", 5090))
                return status, reply
    finally:
        s.close()


def test_bad_offers_get_clear_errors(tmp_path):
    mixer = Mixer(tmp_path)
    try:
        sdp_g729 = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                    "m=audio 6000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
        status, reply = final_status(6010, invite_text(6010, "sip:r@127.0.0.1:5090", sdp_g729, "u1"))
        assert status == 488 and "no common audio codec" in reply, reply
        status, reply = final_status(6012, invite_text(6012, "sip:r@127.0.0.1:5090", "v=0\r\nthis is not sdp\r\n", "u2"))
        assert status == 400, reply
        status, reply = final_status(6014, invite_text(6014, "sip:r@127.0.0.1:5090",
                                                       "v=0\r\nm=audio 1 XYZ \xd0\r\n", "u3"))
        assert status == 400, reply
        status, reply = final_status(6016, invite_text(6016, "sip:127.0.0.1:5090", sdp_g729, "u4"))
        assert status == 404, reply
        assert mixer.alive()
        assert mixer.mixes() == []
    finally:
        mixer.stop()


def test_rtp_garbage_is_dropped_and_silent_legs_time_out(tmp_path):
    mixer = Mixer(tmp_path, extra=["--rtp-timeout", "2"])
    phones = []
    try:
        phones = [Phone(tmp_path, "ga", 5172, "--tone", "600", "--volume", "0.2", "--dial", "sip:g@" + MIXER),
                  Phone(tmp_path, "gb", 5174, "--tone", "1000", "--volume", "0.2", "--dial", "sip:g@" + MIXER)]
        for p in phones:
            p.wait_event("media")
        legs = mixer.mixes()[0]["legs"]
        for leg in legs:
            for blob in (b"\x00" * 3, b"\x80" * 12, b"\xff" * 1400, bytes(range(200)),
                         b"\x80\x00\x00\x01" + b"\x00" * 8 + b"\x01" * 160):  # wrong SSRC burst
                for _ in range(20):
                    sip_exchange(blob, leg["local_port"], timeout=0.001)
        bad_packets = lambda: sum(l["bad_packets"] for l in mixer.mixes()[0]["legs"])
        wait_for(lambda: not mixer.alive() or bad_packets() >= 80, what="the garbage counted as bad packets",
                 state=bad_packets)
        assert mixer.alive()
        bad = bad_packets()
        assert bad >= 80, f"garbage not counted as bad packets: {bad}"
        after_garbage = {p.name: p.clock_ms() for p in phones}
        # A SIPp call that never sends RTP is hung up by the mixer (BYE) after 2 s.
        rc, log = run_sipp("uac_silent_expect_bye.xml", MIXER, 5094, tmp_path, timeout=20,
                           extra=["-m", "1", "-key", "ruri", "sip:g@" + MIXER])
        assert rc == 0, log
        assert len(mixer.mixes()[0]["legs"]) == 2  # the phones are still there
        before_quit = {p.name: p.clock_ms() for p in phones}
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    for p, own, other in ((phones[0], 600, 1000), (phones[1], 1000, 600)):
        x, rate = read_wav(p.record)
        # After the garbage, before the quit (the second phone records the first one's quit: silence).
        tail = x[(after_garbage[p.name] + 200) * rate // 1000:before_quit[p.name] * rate // 1000]
        assert len(tail) > rate, f"{p.name}: {len(tail) / rate:.1f} s after the garbage"
        assert np.median(tone_levels_db(tail, rate, [other], window_ms=100)[other]) > -30


def test_hold_and_resume_with_direction_attributes(tmp_path):
    mixer = Mixer(tmp_path)
    phones = []
    try:
        a = Phone(tmp_path, "ha", 5172, "--tone", "600", "--volume", "0.2", "--dial", "sip:h@" + MIXER)
        b = Phone(tmp_path, "hb", 5174, "--tone", "1000", "--volume", "0.2", "--dial", "sip:h@" + MIXER)
        phones = [a, b]
        a.wait_event("media")
        b.wait_event("media")
        time.sleep(1.5)
        a.send("hold")
        held = a.wait_event("media", direction="inactive")
        leg = wait_for(lambda: next((l for l in mixer.mixes()[0]["legs"] if not l["send"]), None),
                       what="the held leg not sent to", state=lambda: mixer.mixes()[0]["legs"])
        assert not leg["receive"]
        a.record_until(int(held["t_ms"]) + 2000)  # b records 2 s of a on hold
        a.send("unhold")
        sendrecv = lambda: [e for e in a.events() if e.get("event") == "media" and e.get("direction") == "sendrecv"]
        wait_for(lambda: len(sendrecv()) >= 2, what="the resumed media")
        resumed = sendrecv()[-1]
        a.record_until(int(resumed["t_ms"]) + 2000)  # b records 2 s of a resumed
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    # Line a's hold and resume up with b's recording through the wall clock.
    offset = a.epoch_ms() - b.epoch_ms()
    t_hold = (int(held["t_ms"]) + offset) // 100
    t_resume = (int(resumed["t_ms"]) + offset) // 100
    x, rate = read_wav(b.record)
    lv = tone_levels_db(x, rate, [600], window_ms=100)[600]
    before, during, after = lv[t_hold - 8:t_hold - 1], lv[t_hold + 2:t_resume - 1], lv[t_resume + 3:t_resume + 15]
    assert np.median(before) > -30, f"b did not hear a before the hold: {np.median(before):.1f} dB"
    assert np.median(during) < -50, f"b still heard a while a was on hold: {np.median(during):.1f} dB"
    assert np.median(after) > -30, f"b did not hear a after the resume: {np.median(after):.1f} dB"


def test_a_phone_behind_nat_is_heard_and_hears_by_symmetric_rtp(tmp_path):
    """A phone whose SDP names a private (LAN) address while its RTP arrives from
    another one, as behind NAT: the mixer sends to where the RTP comes from."""
    mixer = Mixer(tmp_path)
    phones = []
    try:
        phones = [Phone(tmp_path, "nat", 5172, "--tone", "450", "--volume", "0.2", "--sdp-address", "10.99.0.1",
                        "--dial", "sip:natroom@" + MIXER),
                  Phone(tmp_path, "pub", 5174, "--tone", "650", "--volume", "0.2", "--dial", "sip:natroom@" + MIXER)]
        wait_for(lambda: sum(l["packets_received"] > 0 for m in mixer.mixes() for l in m["legs"]) == 2,
                 what="RTP from both phones")
        legs = {l["local_port"]: l for l in mixer.mixes()[0]["legs"]}
        nat = next(l for l in legs.values() if l["latched"])
        assert nat["remote"].startswith("127.0.0.1:") and nat["remote"] != "10.99.0.1", nat
        assert [l["latched"] for l in legs.values()].count(True) == 1, legs  # the other's SDP was right
        time.sleep(4)
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    assert f"leg {nat['leg']}: its RTP comes from elsewhere" in mixer.output()
    check_hears("nat", phones[0].record, [650], 450)
    check_hears("pub", phones[1].record, [450], 650)


def levels_between(phone, t0_ms, t1_ms, freqs):
    """Median level (dB) of each of `freqs` in `phone`'s recording between two times of its clock."""
    x, rate = read_wav(phone.record)
    part = x[t0_ms * rate // 1000:t1_ms * rate // 1000]
    assert len(part) > rate // 2, f"{phone.name}: {len(part) / rate:.2f} s between {t0_ms} and {t1_ms} ms"
    return {f: float(np.median(v)) for f, v in tone_levels_db(part, rate, freqs, window_ms=100).items()}


def test_listen_links_by_info_between_zones_of_one_world(tmp_path):
    """A leg listening (INFO "listen") to a neighbouring mix of its world hears it
    12 dB below that mix's own legs, on top of its own mix; nobody else hears
    anything new; "unlisten" ends it; /mixes shows the link; bad requests get 400.
    Two mixing threads: mixes sharing the part of their id before the last '-'
    share a thread, so the link is allowed."""
    mixer = Mixer(tmp_path, extra=["--threads", "2"])
    phones = []
    try:
        a = Phone(tmp_path, "la", 5172, "--tone", "500", "--volume", "0.2", "--dial", "sip:w1-nw@" + MIXER)
        b = Phone(tmp_path, "lb", 5174, "--tone", "700", "--volume", "0.2", "--dial", "sip:w1-nw@" + MIXER)
        c = Phone(tmp_path, "lc", 5176, "--tone", "900", "--volume", "0.2", "--dial", "sip:w1-ne@" + MIXER)
        d = Phone(tmp_path, "ld", 5178, "--dial", "sip:w1-ne@" + MIXER)  # hears w1-ne alone: the reference
        phones = [a, b, c, d]
        legs_per_mix = lambda: {m["mix"]: len(m["legs"]) for m in mixer.mixes()}
        wait_for(lambda: legs_per_mix() == {"w1-nw": 2, "w1-ne": 2}, what="four legs", state=legs_per_mix)
        responses = []

        def info(body):
            """Sends a leg control INFO from a; its response's status."""
            a.send(f"info {CONTROL} {json.dumps(body)}")
            n = len(responses) + 1
            wait_for(lambda: len(a.events_named("info-response")) >= n, what=f"the response to {body}")
            responses.append(a.events_named("info-response")[n - 1])
            return int(responses[-1]["status"])

        a.record_until(a.clock_ms() + 1500)
        linked = {p.name: p.clock_ms() for p in phones}
        assert info({"action": "listen", "mix": "w1-ne", "db": -12}) == 200
        listener = next(l for m in mixer.mixes() if m["mix"] == "w1-nw" for l in m["legs"] if l["listening"])
        assert listener["listening"] == [{"mix": "w1-ne", "db": -12}], listener
        for body in ({"action": "listen", "mix": "w1-nw", "db": -6},  # its own mix
                     {"action": "listen", "mix": "w1-ne", "db": 13},  # outside -60..+12
                     {"action": "listen", "mix": "w1-ne"},
                     {"action": "listen", "db": -6},
                     {"action": "unlisten"}):
            assert info(body) == 400, body
        a.record_until(linked["la"] + 3000)
        unlinked = {p.name: p.clock_ms() for p in phones}
        assert info({"action": "unlisten", "mix": "w1-ne"}) == 200
        assert all(l["listening"] == [] for m in mixer.mixes() for l in m["legs"])
        a.record_until(unlinked["la"] + 2000)
        end = {p.name: p.clock_ms() for p in phones}
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    window = lambda p, t0, t1: levels_between(p, t0[p.name] + 300, t1[p.name] - 100, [500, 700, 900])
    before = {p.name: levels_between(p, linked[p.name] - 1400, linked[p.name] - 100, [500, 700, 900]) for p in phones}
    during = {p.name: window(p, linked, unlinked) for p in phones}
    after = {p.name: window(p, unlinked, end) for p in phones}
    print(f"a hears w1-ne at {during['la'][900]:.1f} dB, its own legs at {during['ld'][900]:.1f} dB")
    assert before["la"][900] < -50, before["la"]
    assert abs(during["la"][900] - (during["ld"][900] - 12)) <= 3, (during["la"], during["ld"])
    assert abs(during["la"][700] - before["la"][700]) <= 1, (before["la"], during["la"])  # its own mix as before
    assert during["la"][500] < -50, during["la"]
    assert abs(during["lb"][500] - before["lb"][500]) <= 1, (before["lb"], during["lb"])  # b hears a as before
    assert during["lb"][900] < -50, during["lb"]
    for name in ("lc", "ld"):  # speaking stays in one mix
        assert during[name][500] < -50 and during[name][700] < -50, (name, during[name])
    assert after["la"][900] < -50 and after["la"][700] > -30, after["la"]
