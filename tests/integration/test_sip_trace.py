"""`--sip-trace FILE` (issue 14): a part writes every SIP message it sends and receives
to a pcap file that tshark and sngrep (Debian's) read, also while the part runs. A
registration with a digest challenge and a call through the proxy into a conference,
traced by the proxy, the conference server, the mixer and the phone: each file holds
each message with its Call-ID, method or status, and the addresses it went between,
in both directions; over TCP too. The files are 0600 (they hold credentials); a file
that cannot be written stops the part at start; the config file takes the setting."""
import os
import re
import stat
import subprocess

import pytest

from confab_testlib import CONFAB, ROOT, Conference, Mixer, Phone, Proxy, Web, stop_all, wait_for

PROXY, CONF, MIXER, ALICE, BOB = 5360, 5380, 5390, 5364, 5366
FIELDS = ["ip.src", "udp.srcport", "tcp.srcport", "ip.dst", "udp.dstport", "tcp.dstport", "sip.Method",
          "sip.Status-Code", "sip.Call-ID", "sip.CSeq.method", "sip.auth.username", "sip.WWW-Authenticate",
          "sdp.connection_info.address", "frame.len", "frame.cap_len"]


def sip_messages(path):
    """Every SIP message tshark decodes in `path`: dicts with src/dst ("IP:PORT"), method,
    status, call_id, cseq_method, username (of Authorization), challenge, transport."""
    r = subprocess.run(["tshark", "-r", str(path), "-Y", "sip", "-T", "fields", "-E", "separator=|",
                        *sum((["-e", f] for f in FIELDS), [])], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = []
    for line in r.stdout.splitlines():
        v = dict(zip(FIELDS, line.split("|")))
        tcp = bool(v["tcp.srcport"])
        out.append({"src": f'{v["ip.src"]}:{v["tcp.srcport"] or v["udp.srcport"]}',
                    "dst": f'{v["ip.dst"]}:{v["tcp.dstport"] or v["udp.dstport"]}',
                    "method": v["sip.Method"], "status": v["sip.Status-Code"], "call_id": v["sip.Call-ID"],
                    "cseq_method": v["sip.CSeq.method"], "username": v["sip.auth.username"].strip('"'),
                    "challenge": v["sip.WWW-Authenticate"], "transport": "tcp" if tcp else "udp",
                    "sdp_address": v["sdp.connection_info.address"],
                    "whole": v["frame.len"] == v["frame.cap_len"]})
    return out


def at(port):
    return f"127.0.0.1:{port}"


def one(messages, **match):
    found = [m for m in messages if all(m[k] == v for k, v in match.items())]
    assert found, f"no message {match} among:\n" + "\n".join(map(str, messages))
    return found[0]


def assert_call_hop(messages, call_id, caller, callee):
    """INVITE, 200, ACK, BYE, 200 of one call between two addresses, each in its direction;
    the offer and the answer with their SDP."""
    assert one(messages, method="INVITE", call_id=call_id, src=caller, dst=callee)["sdp_address"] == "127.0.0.1"
    assert one(messages, status="200", cseq_method="INVITE", call_id=call_id, src=callee,
               dst=caller)["sdp_address"] == "127.0.0.1"
    one(messages, method="ACK", call_id=call_id, src=caller, dst=callee)
    one(messages, method="BYE", call_id=call_id, src=caller, dst=callee)
    one(messages, status="200", cseq_method="BYE", call_id=call_id, src=callee, dst=caller)


def assert_registration(messages, phone, proxy, user, transport="udp"):
    """REGISTER, 401 with a challenge, REGISTER with credentials, 200: one Call-ID, in order."""
    reg = [m for m in messages if m["cseq_method"] == "REGISTER" and phone in (m["src"], m["dst"])][:4]
    assert [(m["method"] or m["status"], m["src"], m["dst"], m["transport"]) for m in reg] == [
        ("REGISTER", phone, proxy, transport), ("401", proxy, phone, transport),
        ("REGISTER", phone, proxy, transport), ("200", proxy, phone, transport)], reg
    assert len({m["call_id"] for m in reg}) == 1 and reg[0]["call_id"], reg
    assert 'realm="example.com"' in reg[1]["challenge"], reg[1]
    assert reg[2]["username"] == user, reg[2]
    return reg[0]["call_id"]


def sngrep_dialogs(path, *args):
    """The dialogs sngrep finds in `path` (headless), and what it writes back out."""
    out = path.with_suffix(".sngrep.pcap")
    r = subprocess.run(["sngrep", "-I", str(path), "-N", "-O", str(out), *args], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    counts = re.findall(r"Dialog count: (\d+)", r.stdout + r.stderr)
    assert counts, r.stdout + r.stderr
    return int(counts[-1]), out


def private(path):
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_registration_and_a_call_are_traced_by_every_part_they_cross(tmp_path):
    os.umask(0o022)
    db = tmp_path / "proxy.db"
    for user in ("alice", "bob"):
        r = subprocess.run([CONFAB, "proxy", "--db", db, "--domain", "example.com", "adduser", user],
                           input=f"pw-{user}\n", capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        (tmp_path / f"{user}.pw").write_text(f"pw-{user}\n")
        (tmp_path / f"{user}.pw").chmod(0o600)
    trace = {name: tmp_path / f"{name}.pcap" for name in ("proxy", "conference", "mixer", "alice", "bob")}
    procs = []
    try:
        proxy = Proxy(tmp_path, port=PROXY, db=db,
                      extra=["--domain", "example.com", "--auth-register", "--sip-trace", trace["proxy"]])
        procs.append(proxy)
        procs.append(Mixer(tmp_path, port=MIXER, rtp="21400-21499", http_port=5391,
                           extra=["--sip-trace", trace["mixer"]]))
        procs.append(Conference(tmp_path, port=CONF, mixer=f"sip:{at(MIXER)}", admin_port=5381,
                                extra=["--sip-trace", trace["conference"]]))
        alice = Phone(tmp_path, "alice", ALICE, "--register", "sip:alice@example.com", "--proxy", f"sip:{at(PROXY)}",
                      "--user", "alice", "--password-file", tmp_path / "alice.pw", "--tone", "500",
                      "--sip-trace", trace["alice"])
        procs.append(alice)
        bob = Phone(tmp_path, "bob", BOB, "--register", "sip:bob@example.com",
                    "--proxy", f"sip:{at(PROXY)};transport=tcp", "--user", "bob",
                    "--password-file", tmp_path / "bob.pw", "--sip-trace", trace["bob"])
        procs.append(bob)
        alice.wait_event("registration", status=200)
        bob.wait_event("registration", status=200)
        alice.send(f"dial sip:room1@{at(CONF)}")
        alice.wait_event("answered")
        alice.send("hangup")
        alice.wait_event("terminated")

        # Read while the proxy runs: every message is in the file as soon as it went.
        def bye_answered():
            return any(m["status"] == "200" and m["cseq_method"] == "BYE" and m["dst"] == at(ALICE)
                       for m in sip_messages(trace["proxy"]))
        wait_for(bye_answered, what="the 200 to alice's BYE in the proxy's trace, read while it runs")
    finally:
        for p in reversed(procs):
            p.quit() if isinstance(p, Phone) else p.stop()

    for name, path in trace.items():
        assert private(path), f"{path} is mode {oct(os.stat(path).st_mode)}"
        # Every message whole, also those Sofia's dump cut short (the message log completes them).
        cut = [m for m in sip_messages(path) if not m["whole"]]
        assert not cut, f"{name}: messages not whole in the trace: {cut}"

    proxy_trace = sip_messages(trace["proxy"])
    assert_registration(proxy_trace, at(ALICE), at(PROXY), "alice")
    call_id = one(proxy_trace, method="INVITE", src=at(ALICE))["call_id"]
    assert_call_hop(proxy_trace, call_id, at(ALICE), at(PROXY))  # both legs through the proxy
    assert_call_hop(proxy_trace, call_id, at(PROXY), at(CONF))
    # bob registered over TCP: from the connection's port, which the proxy's trace names
    tcp_register = one(proxy_trace, method="REGISTER", transport="tcp", dst=at(PROXY))
    bob_port = tcp_register["src"]
    assert bob_port != at(BOB) and bob_port.startswith("127.0.0.1:"), tcp_register
    assert_registration(proxy_trace, bob_port, at(PROXY), "bob", transport="tcp")

    conference_trace = sip_messages(trace["conference"])
    assert_call_hop(conference_trace, call_id, at(PROXY), at(CONF))
    leg = one(conference_trace, method="INVITE", src=at(CONF), dst=at(MIXER))  # the B2BUA's leg to the mixer
    one(conference_trace, status="200", cseq_method="INVITE", call_id=leg["call_id"], src=at(MIXER), dst=at(CONF))
    one(sip_messages(trace["mixer"]), method="INVITE", call_id=leg["call_id"], src=at(CONF), dst=at(MIXER))

    alice_trace = sip_messages(trace["alice"])
    assert_registration(alice_trace, at(ALICE), at(PROXY), "alice")
    assert_call_hop(alice_trace, call_id, at(ALICE), at(PROXY))
    # The phone's own connection: its trace names the phone by its listen address.
    assert_registration(sip_messages(trace["bob"]), at(BOB), at(PROXY), "bob", transport="tcp")

    # sngrep finds the dialogs: the two registrations and the call; the call and the mixer leg.
    dialogs, copy = sngrep_dialogs(trace["proxy"])
    assert dialogs == 3
    assert len(sip_messages(copy)) == len(proxy_trace)
    calls, _ = sngrep_dialogs(trace["conference"], "-c")
    assert calls == 2


def test_a_trace_file_that_cannot_be_written_stops_the_part_at_start(tmp_path):
    for part, args in [("proxy", ["--listen", "udp:127.0.0.1:5398", "--db", tmp_path / "p.db"]),
                       ("phone", ["--listen", "127.0.0.1:5398"]), ("mixer", ["--listen", "127.0.0.1:5398"])]:
        r = subprocess.run([CONFAB, part, *map(str, args), "--sip-trace", str(tmp_path / "no" / "such.pcap")],
                           capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        assert r.returncode == 1, (part, r.stdout + r.stderr)
        assert f"confab: cannot write the SIP trace {tmp_path}/no/such.pcap: No such file or directory" in r.stderr, \
            (part, r.stderr)
    assert not (tmp_path / "p.db").exists()  # refused before anything was opened


@pytest.mark.parametrize("part,table", [("conference", "conference"), ("proxy", "proxy")])
def test_the_trace_file_is_a_setting_of_the_config_file(tmp_path, part, table):
    path = tmp_path / "trace.pcap"
    config = tmp_path / f"{part}.toml"
    config.write_text(f'[{table}]\nsip_trace = "{path}"\n' + ('domains = ["example.com"]\n' if part == "proxy" else ""))
    procs = []
    try:
        if part == "conference":  # it asks its mixer (nobody here) at start: an OPTIONS goes out
            procs.append(Conference(tmp_path, port=CONF, mixer=f"sip:{at(MIXER)}", admin_port=5381,
                                    extra=["--config", config]))
            sent = {"method": "OPTIONS", "src": at(CONF), "dst": at(MIXER)}
        else:
            procs.append(Proxy(tmp_path, port=PROXY, extra=["--config", config]))
            carol = Phone(tmp_path, "carol", ALICE, "--register", "sip:carol@example.com", "--proxy", f"sip:{at(PROXY)}")
            procs.append(carol)
            carol.wait_event("registration", status=200)
            carol.quit()
            sent = {"status": "200", "cseq_method": "REGISTER", "src": at(PROXY), "dst": at(ALICE)}
        wait_for(lambda: any(all(m[k] == v for k, v in sent.items()) for m in sip_messages(path)),
                 what=f"{sent} in the trace the config file named")
        assert private(path)
    finally:
        stop_all(*reversed(procs))


def test_the_web_site_traces_its_roster_subscriptions(tmp_path):
    """`confab web --sip-trace`: its user agent's SUBSCRIBE to a page's conference, and the answer."""
    os.umask(0o022)
    trace, web_sip = tmp_path / "web.pcap", 5378
    procs = []
    try:
        procs.append(Conference(tmp_path, port=CONF, mixer=f"sip:{at(MIXER)}", admin_port=5381))
        web = Web(tmp_path, str(ROOT / "packaging" / "site"), "--sip-trace", trace, port=5389,
                  conference_host=at(CONF), sip_port=web_sip)
        procs.append(web)
        web.viewer("/films/dune").next("roster")

        def subscribed():
            messages = sip_messages(trace)
            return any(m["method"] == "SUBSCRIBE" and m["src"] == at(web_sip) and m["dst"] == at(CONF) for m in messages) \
                and any(m["cseq_method"] == "SUBSCRIBE" and m["status"] and m["src"] == at(CONF) for m in messages)
        wait_for(subscribed, what="the site's SUBSCRIBE and its answer in its trace")
    finally:
        stop_all(*reversed(procs))
    assert private(trace)
    subscribe = one(sip_messages(trace), method="SUBSCRIBE", src=at(web_sip), dst=at(CONF))
    assert subscribe["call_id"], subscribe
