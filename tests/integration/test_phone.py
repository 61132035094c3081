"""confab phone as the end device: third-party call control (offerless INVITE,
answer in the ACK), REFER (RFC 3515) with NOTIFYs, registration through the
proxy with digest authentication, honest recordings, and the sound card."""
import os
import subprocess
import time
import wave

import numpy as np

from confab_testlib import (CONFAB, Mixer, Phone, Proxy, hears, read_wav, run_sipp, stop_all, tone_levels_db,
                            wait_for)


def test_offerless_invite_is_answered_with_an_offer(tmp_path):
    phone = Phone(tmp_path, "callee", 5172, "--auto-answer", "--tone", "500")
    try:
        rc, log = run_sipp("uac_3pcc.xml", "127.0.0.1:5172", 5094, tmp_path, template={"millis": 1500},
                           extra=["-m", "1", "-key", "ruri", "sip:callee@127.0.0.1:5172", "-mp", "6200"])
        assert rc == 0, log
        media = phone.wait_event("media")
        assert media["codec"] == "PCMU" and media["remote"] == "127.0.0.1:6200", media
        phone.wait_event("terminated")
    finally:
        phone.quit()


def test_offerless_invite_to_the_mixer(tmp_path):
    mixer = Mixer(tmp_path)
    try:
        rc, log = run_sipp("uac_3pcc.xml", "127.0.0.1:5090", 5094, tmp_path, template={"millis": 1500},
                           extra=["-m", "1", "-key", "ruri", "sip:third@127.0.0.1:5090", "-mp", "6200"])
        assert rc == 0, log
        assert mixer.alive()
    finally:
        mixer.stop()
    assert "mix third: leg 1 joined (PCMU sendrecv -> 127.0.0.1:6200)" in mixer.output()


def test_refer_moves_the_call_to_the_target(tmp_path):
    mixer = Mixer(tmp_path)
    phones = []
    try:
        room = Phone(tmp_path, "room", 5176, "--tone", "1300", "--volume", "0.2", "--dial", "sip:conf@127.0.0.1:5090")
        transferee = Phone(tmp_path, "transferee", 5172, "--auto-answer", "--tone", "500", "--volume", "0.2")
        transferor = Phone(tmp_path, "transferor", 5174, "--tone", "900", "--volume", "0.2",
                           "--dial", "sip:transferee@127.0.0.1:5172")
        phones = [transferee, transferor, room]  # quit in this order: the room plays until the transferee stops
        transferor.wait_event("answered")
        time.sleep(1)
        transferor.send("transfer sip:conf@127.0.0.1:5090")
        transferee.wait_event("refer", to="sip:conf@127.0.0.1:5090")
        notify = transferor.wait_event("notify", body="SIP/2.0 200 OK")
        assert notify
        transferor.wait_event("terminated")  # the transferee hangs up the old call after the transfer
        wait_for(lambda: len(mixer.mixes()[0]["legs"]) == 2, what="the transferee in the conference")
        time.sleep(2)
    finally:
        for p in phones:
            p.quit()
        mixer.stop()
    x, rate = read_wav(transferee.record)
    lv = tone_levels_db(x, rate, [900, 1300], window_ms=100)
    assert np.median(lv[1300][-20:-5]) > -30, "the transferee does not hear the conference"
    assert np.median(lv[900][-20:-5]) < -50, "the transferee still hears the transferor"


def test_registered_phones_call_through_the_authenticating_proxy(tmp_path):
    db = tmp_path / "proxy.db"
    for user in ("alice", "bob"):
        subprocess.run([CONFAB, "proxy", "--db", db, "adduser", user, "pw-" + user], check=True, capture_output=True)
    proxy = Proxy(tmp_path, db=db, extra=["--auth-register", "--auth-invite"])
    phones = []
    try:
        alice = Phone(tmp_path, "alice", 5172, "--register", "sip:alice@127.0.0.1", "--proxy", "sip:127.0.0.1:5060",
                      "--user", "alice", "--password", "pw-alice", "--auto-answer", "--tone", "500")
        bob = Phone(tmp_path, "bob", 5174, "--register", "sip:bob@127.0.0.1", "--proxy", "sip:127.0.0.1:5060",
                    "--user", "bob", "--password", "pw-bob", "--tone", "900")
        phones = [alice, bob]
        alice.wait_event("registration", status=200)
        bob.wait_event("registration", status=200)
        bob.send("dial sip:alice@127.0.0.1")
        bob.wait_event("answered")
        time.sleep(2.5)
    finally:
        for p in phones:
            p.quit()
        proxy.stop()
    for p, hears in ((alice, 900), (bob, 500)):
        x, rate = read_wav(p.record)
        start = int(p.wait_event("media")["t_ms"]) * rate // 1000  # the call's audio, on the phone's own axis
        talk = x[start + rate // 2:start + 2 * rate]
        assert np.median(tone_levels_db(talk, rate, [hears], window_ms=100)[hears]) > -30, p.name


def test_sound_card_through_portaudio(tmp_path):
    """--sound-card uses PortAudio's default devices. Here ALSA's default is its
    file plugin (an .asoundrc in HOME): the microphone reads a 700 Hz tone from a
    file and the speaker writes to one, paced by the phone's 20 ms tick."""
    rate = 16000
    t = np.arange(rate * 20) / rate
    (tmp_path / "mic.raw").write_bytes((0.25 * 32767 * np.sin(2 * np.pi * 700 * t)).astype("<i2").tobytes())
    (tmp_path / ".asoundrc").write_text(f"""
pcm.!default {{
  type asym
  playback.pcm {{ type file; slave.pcm "null"; file "{tmp_path}/speaker.raw"; format "raw" }}
  capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{tmp_path}/mic.raw"; format "raw" }}
}}
""")
    env = dict(os.environ, HOME=str(tmp_path))
    card = Phone(tmp_path, "card", 5172, "--sound-card", "--auto-answer", env=env)
    far = None
    try:
        far = Phone(tmp_path, "far", 5174, "--tone", "500", "--dial", "sip:card@127.0.0.1:5172")
        far.wait_event("answered")
        time.sleep(4.5)
    finally:
        if far:
            far.quit()
        card.quit()
    assert "sound card: microphone" in card.output(), card.output()[-2000:]
    hears(far.record, [700], 500)  # the far end hears the microphone
    speaker = tmp_path / "speaker.wav"
    with wave.open(str(speaker), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((tmp_path / "speaker.raw").read_bytes())
    hears(speaker, [500], 700)  # the speaker plays the far end, not the microphone


def test_sound_card_missing_is_a_clear_error(tmp_path):
    (tmp_path / ".asoundrc").write_text('pcm.!default { type hw; card 77 }\n')
    r = subprocess.run([CONFAB, "phone", "--listen", "127.0.0.1:5172", "--sound-card"], capture_output=True, text=True,
                       env=dict(os.environ, HOME=str(tmp_path)), timeout=20)
    assert r.returncode != 0 and "sound card:" in r.stderr, (r.returncode, r.stderr[-2000:])


def udp_sockets_of(pid):
    """Local addresses (host, port) of the UDP sockets process `pid` holds, from `ss -uanp`."""
    out = subprocess.run(["ss", "-uanpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        if f"pid={pid}," not in line:
            continue
        host, _, port = line.split()[3].rpartition(":")
        found.append((host.strip("[]"), int(port)))
    return found


def test_rtp_follows_the_listen_address(tmp_path):
    """RTP is bound on the host of --listen and the SDP names it (it was 127.0.0.1
    whatever --listen said); --rtp-address moves it, --sdp-address only what the SDP says."""
    callee = caller = None
    try:
        callee = Phone(tmp_path, "callee", 5172, "--auto-answer", "--tone", "500", "--volume", "0.2",
                       host="127.0.0.2", rtp="30720-30759")
        caller = Phone(tmp_path, "caller", 5174, "--tone", "900", "--volume", "0.2",
                       "--dial", "sip:callee@127.0.0.2:5172")
        caller.wait_event("answered")
        # The caller sends where the callee's SDP answer (its c= line) says.
        remote = caller.wait_event("media")["remote"]
        assert remote.startswith("127.0.0.2:"), remote
        rtp_port = int(remote.rpartition(":")[2])
        assert 30720 <= rtp_port <= 30759, remote
        sockets = udp_sockets_of(callee.p.pid)
        assert ("127.0.0.2", rtp_port) in sockets, sockets
        assert all(host == "127.0.0.2" for host, _ in sockets), sockets
        # A malformed %-escape in a dialled URI's headers is a clear error, not a crash.
        caller.send("dial sip:callee@127.0.0.2:5172?Replaces=%zz")
        assert "malformed" in caller.wait_event("error")["reason"]
        time.sleep(4)
        assert caller.alive() and callee.alive()
    finally:
        stop_all(caller, callee)
    hears(callee.record, [900], 500)
    hears(caller.record, [500], 900)


def test_rtp_address_moves_rtp_and_sdp_address_what_the_sdp_names(tmp_path):
    callee = caller = None
    try:
        callee = Phone(tmp_path, "callee", 5172, "--auto-answer", "--rtp-address", "127.0.0.3",
                       "--sdp-address", "127.0.0.4", host="127.0.0.2", rtp="30720-30759")
        caller = Phone(tmp_path, "caller", 5174, "--dial", "sip:callee@127.0.0.2:5172")
        remote = caller.wait_event("media")["remote"]
        assert remote.startswith("127.0.0.4:"), remote  # the SDP names --sdp-address ...
        sockets = udp_sockets_of(callee.p.pid)
        assert ("127.0.0.3", int(remote.rpartition(":")[2])) in sockets, sockets  # ... RTP is on --rtp-address
        assert ("127.0.0.2", 5172) in sockets, sockets  # and SIP on --listen
    finally:
        stop_all(caller, callee)
    # A wildcard address can be bound, but not named in SDP.
    r = subprocess.run([CONFAB, "phone", "--listen", "0.0.0.0:5172"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "--sdp-address" in r.stderr, (r.returncode, r.stderr[-2000:])
