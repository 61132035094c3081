"""The proxy built with AddressSanitizer/LeakSanitizer (build-fuzz/confab, made by
scripts/test) under a bounded load of calls, registrations, cancellations and bad
input: it must exit cleanly with no memory error and no leak."""
import os
import signal
import time
from pathlib import Path

from confab_testlib import ROOT, Proxy, run_sipp, sip_exchange, start_sipp

ASAN_BIN = Path(os.environ.get("CONFAB_ASAN_BIN", str(ROOT / "build-fuzz" / "confab")))


def test_proxy_has_no_memory_errors_or_leaks_under_load(tmp_path, monkeypatch):
    assert ASAN_BIN.exists(), f"{ASAN_BIN} missing: scripts/test builds it (CONFAB_FUZZ=1 scripts/setup)"
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23")
    proxy = Proxy(tmp_path, extra=["--route", "conf.example.com=127.0.0.1:5080"], binary=ASAN_BIN)
    try:
        # 300 calls through the proxy to a SIPp UAS (statefully forwarded, RR, ACK, BYE).
        uas = start_sipp("uas", None, 5080, tmp_path, extra=["-m", "300"])
        rc, log = run_sipp("uac", "127.0.0.1:5080", 5090, tmp_path, timeout=60,
                           extra=["-s", "room", "-rsa", "127.0.0.1:5060", "-m", "300", "-r", "100"])
        assert rc == 0, log
        uas.p.wait(20)
        # Registrations, a 404, a CANCEL and garbage.
        rc, log = run_sipp("register.xml", "127.0.0.1:5060", 5091, tmp_path, template={"check_contact": "true", "contact_params": ""},
                           extra=["-m", "50", "-r", "50", "-key", "user", "bob", "-key", "contact_port", "5082",
                                  "-key", "expires", "600", "-key", "q", "1.0"])
        assert rc == 0, log
        ringing = start_sipp("uas_ring_cancelled.xml", None, 5082, tmp_path, extra=["-m", "1"])
        rc, log = run_sipp("uac_cancel.xml", "127.0.0.1:5060", 5093, tmp_path,
                           extra=["-m", "1", "-key", "ruri", "sip:bob@127.0.0.1:5060"])
        assert rc == 0, log
        ringing.p.wait(10)
        rc, log = run_sipp("invite_expect.xml", "127.0.0.1:5060", 5095, tmp_path,
                           template={"status": 404, "from_uri": "sip:x@192.0.2.1"},
                           extra=["-m", "20", "-key", "ruri", "sip:nobody@127.0.0.1:5060", "-key", "max_forwards", "70"])
        assert rc == 0, log
        # STUN binding requests on the SIP port: Sofia's built-in STUN server leaks
        # memory for each (found by fuzzing), so the proxy must not run it.
        stun = bytes([0, 1, 0, 0]) + bytes([0x21, 0x12, 0xA4, 0x42]) + bytes(12)
        for blob in (b"\x00garbage", b"INVITE sip:x SIP/2.0\r\n\r\n", b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n",
                     stun, stun[:2] + bytes([0, 8]) + stun[4:] + bytes([0, 0x80, 0, 4, 0, 0, 0, 0])):
            sip_exchange(blob, 5060, timeout=0.2)
        # Every input that once crashed or leaked under the fuzzers.
        for f in sorted((ROOT / "tests" / "fuzz" / "sip" / "regressions").iterdir()):
            sip_exchange(f.read_bytes().replace(b"15960", b"5060"), 5060, timeout=0.2)
        assert proxy.alive(), proxy.output()
        time.sleep(2)  # let failing DNS lookups of odd host names finish
    finally:
        code = proxy.stop(sig=signal.SIGTERM, timeout=20)
    out = proxy.output()
    assert "ERROR: AddressSanitizer" not in out and "ERROR: LeakSanitizer" not in out, out[-6000:]
    assert code == 0, f"exit code {code}\n{out[-3000:]}"
