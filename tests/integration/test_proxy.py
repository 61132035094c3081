"""confab proxy against SIPp on loopback: registrar, routing, forking, CANCEL,
persistence, digest auth, loop/hop protection and bad input."""
import subprocess
import time

import pytest

from confab_testlib import CONFAB, Proxy, run_sipp, start_sipp, sip_exchange, wait_for

PROXY = "127.0.0.1:5060"
FROM_ELSEWHERE = "sip:caller@192.0.2.1"


def register(tmp_path, user, contact_port, local_port, expires=600, q="1.0", transport="u1", contact_params=""):
    rc, log = run_sipp("register.xml", PROXY, local_port, tmp_path, name=f"reg-{user}-{contact_port}",
                       extra=["-m", "1", "-t", transport, "-key", "user", user, "-key", "contact_port", contact_port,
                              "-key", "expires", expires, "-key", "q", q],
                       template={"check_contact": "true" if int(expires) > 0 else "false",
                                 "contact_params": contact_params})
    assert rc == 0, log


def call(tmp_path, ruri, local_port=5090, transport="u1", scenario="uac_call.xml", extra=()):
    return run_sipp(scenario, PROXY, local_port, tmp_path, name=f"call-{local_port}",
                    extra=["-m", "1", "-t", transport, "-key", "ruri", ruri, *extra])


def finish(uas, timeout=15):
    uas.p.wait(timeout)
    assert uas.p.returncode == 0, uas.output()


def test_register_then_call_registered_user(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        uas = start_sipp("uas_answer.xml", None, 5080, tmp_path, extra=["-m", "1"])
        register(tmp_path, "bob", 5080, 5091)
        listing = subprocess.run([CONFAB, "proxy", "--db", proxy.db, "--list"], capture_output=True, text=True)
        assert "bob@127.0.0.1 sip:bob@127.0.0.1:5080" in listing.stdout, listing.stdout
        rc, log = call(tmp_path, "sip:bob@127.0.0.1:5060")
        assert rc == 0, log
        finish(uas)
    finally:
        proxy.stop()


def test_options_to_the_proxy_itself(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        rc, log = run_sipp("request_expect.xml", PROXY, 5090, tmp_path, template={"status": 200, "method": "OPTIONS"},
                           extra=["-m", "1", "-key", "ruri", "sip:127.0.0.1:5060",
                                  "-key", "max_forwards", "70"])
        assert rc == 0, log
    finally:
        proxy.stop()


def test_unregistered_user_is_forwarded_to_its_domain_host(tmp_path):
    proxy = Proxy(tmp_path, extra=["--route", "conf.example.com=127.0.0.1:5080"])
    try:
        # Static route for a domain name...
        uas = start_sipp("uas_answer.xml", None, 5080, tmp_path, extra=["-m", "1"])
        rc, log = call(tmp_path, "sip:room7@conf.example.com")
        assert rc == 0, log
        finish(uas)
        # ...and plain forwarding to the host in the Request-URI.
        uas = start_sipp("uas_answer.xml", None, 5082, tmp_path, extra=["-m", "1"])
        rc, log = call(tmp_path, "sip:room8@127.0.0.1:5082", local_port=5092)
        assert rc == 0, log
        finish(uas)
    finally:
        proxy.stop()


def test_unknown_user_of_our_domain_gets_404(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        rc, log = run_sipp("invite_expect.xml", PROXY, 5090, tmp_path, template={"status": 404, "from_uri": FROM_ELSEWHERE},
                           extra=["-m", "1", "-key", "ruri", "sip:nobody@127.0.0.1:5060", "-key", "max_forwards", "70"])
        assert rc == 0, log
    finally:
        proxy.stop()


def test_cancel_reaches_the_callee(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        uas = start_sipp("uas_ring_cancelled.xml", None, 5080, tmp_path, extra=["-m", "1"])
        register(tmp_path, "bob", 5080, 5091)
        rc, log = call(tmp_path, "sip:bob@127.0.0.1:5060", scenario="uac_cancel.xml")
        assert rc == 0, log
        finish(uas)
    finally:
        proxy.stop()


def test_parallel_forking_answers_one_cancels_other(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        answering = start_sipp("uas_answer.xml", None, 5080, tmp_path, extra=["-m", "1"])
        ringing = start_sipp("uas_ring_cancelled.xml", None, 5082, tmp_path, extra=["-m", "1"])
        register(tmp_path, "bob", 5080, 5091)
        register(tmp_path, "bob", 5082, 5093)
        listing = subprocess.run([CONFAB, "proxy", "--db", proxy.db, "--list"], capture_output=True, text=True)
        assert [l.split()[0] for l in listing.stdout.splitlines()] == ["bob@127.0.0.1"] * 2, listing.stdout
        rc, log = call(tmp_path, "sip:bob@127.0.0.1:5060")
        assert rc == 0, log
        finish(answering)
        finish(ringing)
    finally:
        proxy.stop()


def test_restart_keeps_registrations(tmp_path):
    proxy = Proxy(tmp_path)
    register(tmp_path, "bob", 5080, 5091)
    assert proxy.stop() == 0
    proxy = Proxy(tmp_path, name="proxy-restarted")
    try:
        uas = start_sipp("uas_answer.xml", None, 5080, tmp_path, extra=["-m", "1"])
        rc, log = call(tmp_path, "sip:bob@127.0.0.1:5060")
        assert rc == 0, log
        finish(uas)
    finally:
        proxy.stop()


def test_unregister_removes_binding(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        register(tmp_path, "bob", 5080, 5091)
        register(tmp_path, "bob", 5080, 5093, expires=0)
        rc, log = run_sipp("invite_expect.xml", PROXY, 5090, tmp_path, template={"status": 404, "from_uri": FROM_ELSEWHERE},
                           extra=["-m", "1", "-key", "ruri", "sip:bob@127.0.0.1:5060", "-key", "max_forwards", "70"])
        assert rc == 0, log
    finally:
        proxy.stop()


def test_register_too_brief_gets_423(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        rc, log = run_sipp("register_expect.xml", PROXY, 5091, tmp_path, template={"status": 423},
                           extra=["-m", "1", "-key", "user", "bob", "-key", "contact_port", "5080", "-key", "expires", "5"])
        assert rc == 0, log
    finally:
        proxy.stop()


def test_digest_auth_for_register_and_invite(tmp_path):
    db = tmp_path / "auth.db"
    for user in ("bob", "caller"):
        subprocess.run([CONFAB, "proxy", "--db", db, "adduser", user, "secret"], check=True, capture_output=True)
    proxy = Proxy(tmp_path, db=db, extra=["--auth-register", "--auth-invite"])
    try:
        rc, log = run_sipp("register_expect.xml", PROXY, 5091, tmp_path, template={"status": 401},
                           extra=["-m", "1", "-key", "user", "bob", "-key", "contact_port", "5080", "-key", "expires", "600"])
        assert rc == 0, log
        rc, log = run_sipp("register_auth.xml", PROXY, 5093, tmp_path, name="reg-wrong-password", timeout=8,
                           extra=["-m", "1", "-key", "user", "bob", "-key", "contact_port", "5080", "-au", "bob", "-ap", "nope"])
        assert rc != 0, "a wrong password must not register"
        rc, log = run_sipp("register_auth.xml", PROXY, 5095, tmp_path,
                           extra=["-m", "1", "-key", "user", "bob", "-key", "contact_port", "5080", "-au", "bob", "-ap", "secret"])
        assert rc == 0, log
        # An INVITE from our domain without credentials is challenged...
        rc, log = run_sipp("invite_expect.xml", PROXY, 5097, tmp_path,
                           template={"status": 407, "from_uri": "sip:caller@127.0.0.1:5060"},
                           extra=["-m", "1", "-key", "ruri", "sip:bob@127.0.0.1:5060", "-key", "max_forwards", "70"])
        assert rc == 0, log
        # ...and goes through with them.
        uas = start_sipp("uas_answer.xml", None, 5080, tmp_path, extra=["-m", "1"])
        rc, log = call(tmp_path, "sip:bob@127.0.0.1:5060", scenario="uac_call_auth.xml",
                       extra=["-au", "caller", "-ap", "secret"])
        assert rc == 0, log
        finish(uas)
    finally:
        proxy.stop()


def test_max_forwards_zero_gets_483_and_loops_get_482(tmp_path):
    proxy = Proxy(tmp_path, extra=["--route", "loop.example=127.0.0.1:5060"])
    try:
        rc, log = run_sipp("request_expect.xml", PROXY, 5090, tmp_path, template={"status": 483, "method": "OPTIONS"},
                           extra=["-m", "1", "-key", "ruri", "sip:bob@example.net",
                                  "-key", "max_forwards", "0"])
        assert rc == 0, log
        rc, log = run_sipp("request_expect.xml", PROXY, 5092, tmp_path, template={"status": 482, "method": "MESSAGE"},
                           extra=["-m", "1", "-key", "ruri", "sip:x@loop.example",
                                  "-key", "max_forwards", "70"])
        assert rc == 0, log
    finally:
        proxy.stop()


def malformed(via):
    """Bad requests (with `via` as their Via value) and the status line each must get,
    or None when the right answer is silence (no parsable request to answer)."""
    head = f"Via: SIP/2.0/{via};branch=z9hG4bK{{}}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\n"
    return [
        (f"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n{head.format(1)}Call-ID: x\r\nCSeq: abc INVITE\r\n"
         "Content-Length: 0\r\n\r\n", "SIP/2.0 400 Bad CSeq"),
        (f"OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n{head.format(2)}CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
         "SIP/2.0 400"),  # no Call-ID
        (f"OPTIONS sip:bob@127.0.0.1 SIP/3.0\r\n{head.format(3)}Call-ID: y\r\nCSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n", "SIP/2.0 505"),
        (f"OPTIONS http://example.com/ SIP/2.0\r\n{head.format(4)}Call-ID: z\r\nCSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n", "SIP/2.0 416"),
        (f"MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n{head.format(5)}Call-ID: w\r\nCSeq: 1 MESSAGE\r\n"
         "Max-Forwards: 70\r\nProxy-Require: com.example.teleport\r\nContent-Length: 0\r\n\r\n", "SIP/2.0 420"),
        ("\x00\x01\x02 garbage \xff\xfe", None),
        ("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nX-Long: " + "a" * 70000 + "\r\n\r\n", None),
    ]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_malformed_requests_get_clear_errors_and_no_crash(tmp_path, transport):
    proxy = Proxy(tmp_path)
    try:
        client_port = 6000
        via = f"{transport.upper()} 127.0.0.1:{client_port}"
        for text, expected in malformed(via):
            data = text.encode("latin-1")
            if transport == "udp" and len(data) > 60000:
                continue  # larger than a datagram
            reply = sip_exchange(data, 5060, proto=transport, timeout=1.0, local_port=client_port)
            if expected:
                assert reply and reply.startswith(expected), f"{data[:60]!r} -> {reply!r}"
            assert proxy.alive(), proxy.output()
        # Still serving after the garbage.
        rc, log = run_sipp("request_expect.xml", PROXY, 5090, tmp_path, template={"status": 200, "method": "OPTIONS"},
                           extra=["-m", "1", "-key", "ruri", "sip:127.0.0.1:5060", "-key", "max_forwards", "70"])
        assert rc == 0, log
    finally:
        proxy.stop()


def test_tcp_registration_and_call(tmp_path):
    proxy = Proxy(tmp_path)
    try:
        uas = start_sipp("uas_answer.xml", None, 5080, tmp_path, extra=["-m", "1", "-t", "t1"])
        register(tmp_path, "bob", 5080, 5091, transport="t1", contact_params=";transport=tcp")
        rc, log = call(tmp_path, "sip:bob@127.0.0.1:5060", transport="t1")
        assert rc == 0, log
        finish(uas)
    finally:
        proxy.stop()

