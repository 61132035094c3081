"""Two baresip phones register at confab proxy and call each other through it;
each must hear the other's tone (audio checked by content)."""
import subprocess
import time

from confab_testlib import CONFAB, Baresip, Proxy, tone_of, tone_snr_db, wait_for


def test_two_baresip_register_and_call_through_proxy(tmp_path):
    proxy = Proxy(tmp_path)
    a = b = None
    try:
        a = Baresip("pa", 5162, 440, registrar="127.0.0.1:5060")
        b = Baresip("pb", 5164, 1000, registrar="127.0.0.1:5060")
        def registered():
            out = subprocess.run([CONFAB, "proxy", "--db", proxy.db, "--list"], capture_output=True, text=True).stdout
            return "pa@127.0.0.1" in out and "pb@127.0.0.1" in out
        wait_for(registered, timeout=10, what="both baresip registered")
        rc, out = a.command("dial", "sip:pb@127.0.0.1:5060")
        assert rc == 0, out
        time.sleep(4)
        a.command("hangup")
        time.sleep(0.5)
    finally:
        for ua in (a, b):
            if ua:
                ua.stop()
        proxy.stop()
    for ua, hears in ((a, 1000), (b, 440)):
        recs = ua.recordings()
        assert recs, f"{ua.name} recorded nothing:\n{ua.log()[-2000:]}"
        freq, level = tone_of(recs[-1])
        assert abs(freq - hears) < hears * 0.03, f"{ua.name} heard {freq:.0f} Hz, expected {hears}"
        assert level > -30, f"{ua.name} recording too quiet ({level:.1f} dBFS)"
        snr = tone_snr_db(recs[-1], [hears])
        assert snr > 30, f"{ua.name}: SNR {snr:.1f} dB"
