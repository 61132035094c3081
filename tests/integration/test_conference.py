"""confab conference with real peers (confab phones, baresip, SIPp) on loopback:
ad-hoc conferences through the proxy and direct, the RFC 4575 event package,
RFC 4579 REFERs, the Replaces move, the admin API, limits and hostile input.
Audio is checked by content: each participant sends its own tone."""
import time
from pathlib import Path

import numpy as np

import conference_info
from confab_testlib import (Baresip, Conference, Mixer, Phone, Proxy, longest_run, read_wav, sip_exchange,
                            tone_levels_db, tone_snr_db, wait_for)

SERVER = "127.0.0.1:5080"
DOMAIN = "conf.example.com"


def hears(path, others, own, skip=1.5, keep=2.5, min_snr=25.0):
    """Asserts a recording holds every tone in `others` and not `own`."""
    x, rate = read_wav(path)
    x = x[int(skip * rate):int((skip + keep) * rate)]
    assert len(x) > rate, f"{path}: recording too short"
    levels = {f: float(np.median(v)) for f, v in tone_levels_db(x, rate, list(others) + [own], 100).items()}
    for f in others:
        assert levels[f] > -40, f"{path.name}: does not hear {f} Hz: {levels}"
    assert levels[own] < min(levels[f] for f in others) - 25, f"{path.name} hears itself: {levels}"
    part = Path(str(path) + ".part.wav")
    import wave
    with wave.open(str(part), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    snr = tone_snr_db(part, list(others), skip=0)
    assert snr >= min_snr, f"{path.name}: SNR {snr:.1f} dB"


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
        time.sleep(0.3)
        left = conf.conferences()
        stop_all(conf, mixer, proxy)
    assert left == {}, f"the conference outlived its participants: {left}"
    hears(a.record, [650, 850], 450)
    hears(b.record, [450, 850], 650)
    hears(c.recordings()[-1], [450, 650], 850)
