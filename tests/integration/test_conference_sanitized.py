"""The conference server built with AddressSanitizer/LeakSanitizer (build-fuzz/confab,
made by scripts/test) through joins, an offerless join, a Replaces move, REFER
add and remove, the admin API, a SUBSCRIBE flood and hostile requests: it must
exit cleanly with no memory error and no leak."""
import os
import signal
import time
from pathlib import Path

from confab_testlib import ROOT, Conference, Mixer, Phone, run_sipp, wait_for
from test_conference import send_hostile_requests, stop_all, wait_roster, SERVER

ASAN_BIN = Path(os.environ.get("CONFAB_ASAN_BIN", str(ROOT / "build-fuzz" / "confab")))


def test_conference_server_has_no_memory_errors_or_leaks(tmp_path, monkeypatch):
    assert ASAN_BIN.exists(), f"{ASAN_BIN} missing: scripts/test builds it (CONFAB_FUZZ=1 scripts/setup)"
    cfg = tmp_path / "conference.toml"
    cfg.write_text("[conference]\nmax_subscribers = 10\n")
    mixer = Mixer(tmp_path)
    phones = []
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23")
    conf = Conference(tmp_path, binary=ASAN_BIN, extra=["--config", cfg])
    monkeypatch.delenv("ASAN_OPTIONS")
    try:
        a = Phone(tmp_path, "a", 5172, "--tone", "500", "--dial", f"sip:room1@{SERVER}")
        b = Phone(tmp_path, "b", 5174, "--tone", "900", "--dial", f"sip:room1@{SERVER}")
        c = Phone(tmp_path, "c", 5176, "--tone", "1300", "--dial", f"sip:room2@{SERVER}")
        d = Phone(tmp_path, "d", 5180, "--auto-answer")
        w = Phone(tmp_path, "w", 5178, "--subscribe", f"sip:room2@{SERVER}")
        phones = [a, b, c, d, w]
        for p in (a, b, c):
            p.wait_event("answered", timeout=20)
        wait_roster(w, 1, timeout=20)
        rc, err = run_sipp("uac_3pcc.xml", SERVER, 5190, tmp_path, template={"millis": 500}, timeout=30,
                           extra=["-m", "3", "-key", "ruri", f"sip:room2@{SERVER}", "-mp", "6200"])
        assert rc == 0, err
        a.send(f"move sip:room2@{SERVER}")
        a.wait_event("answered", call="c2", timeout=20)
        c.send("transfer sip:127.0.0.1:5180")
        d.wait_event("media", timeout=20)
        wait_roster(w, 3, timeout=20)
        c.send("transfer sip:127.0.0.1:5180;method=BYE")
        d.wait_event("terminated", timeout=20)
        pid = next(p["id"] for p in conf.conferences()["room2"]["participants"] if p["contact"].endswith(":5176"))
        assert conf.admin("POST", f"/participants/{pid}/mute", {"muted": True})[0] == 200
        assert conf.admin("POST", f"/participants/{pid}/move", {"to": "room1"})[0] == 200
        rc, err = run_sipp("subscribe_conference.xml", SERVER, 5192, tmp_path, timeout=40,
                           extra=["-m", "40", "-r", "40", "-aa", "-key", "ruri", f"sip:room1@{SERVER}"])
        assert rc == 0, err
        send_hostile_requests()
        b.send("hangup")
        b.wait_event("terminated", timeout=20)
        assert conf.alive(), conf.output()
        time.sleep(1)
    finally:
        stop_all(*phones)
        code = conf.stop(sig=signal.SIGTERM, timeout=30)
        mixer.stop()
    out = conf.output()
    assert "ERROR: AddressSanitizer" not in out and "ERROR: LeakSanitizer" not in out, out[-6000:]
    assert code == 0, f"exit code {code}\n{out[-3000:]}"
