"""Call-IDs in the logs (issue 14): a call from a phone through the proxy into a
conference (and so to the mixer), moved to another conference and kicked by the admin
API. Every line a part logs about that call carries its Call-ID: "[call-id=...]" in
text and journal lines, a "call_id" field in json ones (the message then without the
prefix). The Call-IDs are read off the wire (the phone's and the conference server's
SIP traces, decoded by tshark), not from the logs themselves: the phone's for the
proxy's lines, the phone's and the mixer leg's for the conference server's (a
back-to-back user agent: both dialogs), the mixer leg's for the mixer's. And a client
service's loop-mode call (a device phone joined to a conference, then hung up): its
lines carry the device leg's Call-ID (the user agent chooses it before the INVITE leaves,
so even the line announcing it has it), and the target leg's once it exists. And the
proxy's lines about a call cancelled while ringing and one nobody answers."""
import json
import re

import pytest

from confab_testlib import Conference, Mixer, Phone, Proxy, Service, start, stop_all, wait_for
from test_sip_trace import one, sip_messages

PROXY, CONF, MIXER, ALICE = 5460, 5480, 5490, 5464
TEXT_PREFIX = re.compile(r"\[call-id=(\S+)\] (.*)$")


def records(proc, fmt):
    """(call ids or None, message) of each line `proc` logged."""
    out = []
    for line in proc.output().splitlines():
        if fmt == "json":
            if not line.startswith("{"):
                continue
            v = json.loads(line)  # every line one valid object
            assert not v["message"].startswith("[call-id="), v  # the prefix became the field
            ids = v.get("call_id")
            out.append((ids.split(",") if ids else None, v["message"]))
        else:
            m = re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+ \S+ (.*)$", line)
            if not m:
                continue
            prefix = TEXT_PREFIX.match(m.group(1))
            out.append((prefix.group(1).split(","), prefix.group(2)) if prefix else (None, m.group(1)))
    return out


def about(recs, pattern):
    return [(ids, msg) for ids, msg in recs if re.search(pattern, msg)]


def assert_all_carry(recs, pattern, call_id, expected, part):
    lines = about(recs, pattern)
    missing = [msg for ids, msg in lines if not ids or call_id not in ids]
    assert not missing, f"{part}: lines about the call without its Call-ID {call_id}:\n" + "\n".join(missing)
    for want in expected:
        assert any(re.search(want, msg) for _, msg in lines), \
            f"{part}: no line {want!r} about the call among:\n" + "\n".join(m for _, m in lines)
    return lines


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_line_about_a_call_carries_its_call_id(tmp_path, fmt):
    logging = ["--log-level", "debug", "--log-format", fmt]
    traces = {"alice": tmp_path / "alice.pcap", "conference": tmp_path / "conference.pcap"}
    procs = []
    try:
        proxy = Proxy(tmp_path, port=PROXY, extra=["--domain", "example.com", *logging])
        procs.append(proxy)
        mixer = Mixer(tmp_path, port=MIXER, rtp="21600-21699", http_port=5491, extra=logging)
        procs.append(mixer)
        conference = Conference(tmp_path, port=CONF, mixer=f"sip:127.0.0.1:{MIXER}", admin_port=5481,
                                extra=[*logging, "--sip-trace", traces["conference"]])
        procs.append(conference)
        alice = Phone(tmp_path, "alice", ALICE, "--register", "sip:alice@example.com",
                      "--proxy", f"sip:127.0.0.1:{PROXY}", "--tone", "500", "--sip-trace", traces["alice"])
        procs.append(alice)
        alice.wait_event("registration", status=200)
        alice.send(f"dial sip:room1@127.0.0.1:{CONF}")
        alice.wait_event("answered")
        wait_for(lambda: "p1" in str(conference.conferences().get("room1", {})), what="alice in room1")
        assert conference.admin("POST", "/participants/p1/move", {"to": "room2"})[0] == 200
        assert conference.admin("DELETE", "/participants/p1")[0] == 200
        alice.wait_event("terminated")
        wait_for(lambda: not conference.conferences(), what="the conferences to end")
    finally:
        stop_all(*reversed(procs))

    call_id = one(sip_messages(traces["alice"]), method="INVITE", src=f"127.0.0.1:{ALICE}")["call_id"]
    leg_id = one(sip_messages(traces["conference"]), method="INVITE", dst=f"127.0.0.1:{MIXER}")["call_id"]
    assert call_id and leg_id and call_id != leg_id

    # The proxy: the INVITE forwarded and answered, the ACK, the conference's BYE and its answer.
    assert_all_carry(records(proxy, fmt), r"room1|^(INVITE|ACK|BYE|CANCEL) ", call_id,
                     [r"^INVITE sip:room1@\S+: forwarded to", r"^INVITE sip:room1@\S+: .* answered 200",
                      r"^ACK .*forwarded", r"^BYE sip:alice@\S+: forwarded to", r"^BYE .* answered 200"], "proxy")

    # The conference server: the participant's every line, with both of its dialogs' Call-IDs once known.
    lines = assert_all_carry(records(conference, fmt), r"\bp1\b|sip:alice@", call_id,
                             [r"joining as p1", r"the mixer leg's Call-ID is " + re.escape(leg_id), r"\(p1\) joined",
                              r"participant p1: moved from room1 to room2", r"participant p1: hung up by the admin API",
                              r"\(p1\) left"], "conference")
    joined = next(ids for ids, msg in lines if "(p1) joined" in msg)
    assert joined == [call_id, leg_id], joined

    # The mixer: its leg's every line, with the leg's Call-ID (the one the conference server logged).
    assert_all_carry(records(mixer, fmt), r"\bleg \d+", leg_id,
                     [r"mix room1: leg \d+ joined", r"leg \d+: moved from mix room1 to room2", r"mix room2: leg \d+ left"],
                     "mixer")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_line_about_a_service_call_carries_its_call_ids(tmp_path, fmt):
    trace = tmp_path / "service.pcap"
    procs = []
    try:
        start(procs, Mixer(tmp_path, port=MIXER, rtp="21600-21699", http_port=5491))
        conference = start(procs, Conference(tmp_path, port=CONF, mixer=f"sip:127.0.0.1:{MIXER}", admin_port=5481))
        start(procs, Phone(tmp_path, "dev", 5476, "--auto-answer", "--tone", "700"))
        svc = start(procs, Service(tmp_path, sip_port=5472, devices=["desk=sip:dev@127.0.0.1:5476"],
                                   default_device="desk",
                                   extra=["--log-level", "debug", "--log-format", fmt, "--sip-trace", trace]))
        client = svc.client()
        joined = client.call(f'<Join id="sip:room1@127.0.0.1:{CONF}"/>')
        assert joined.get("status") == "ok" and joined.get("call") == "c1", joined.attrib
        assert client.call('<Hangup call="c1"/>').get("status") == "ok"
        wait_for(lambda: "call c1: ended" in svc.output(), what="the call's end logged")
    finally:
        stop_all(*reversed(procs))

    messages = sip_messages(trace)
    device_id = one(messages, method="INVITE", dst="127.0.0.1:5476")["call_id"]
    target_id = one(messages, method="INVITE", dst=f"127.0.0.1:{CONF}")["call_id"]
    recs = records(svc, fmt)
    # The first line announces the INVITE to the device, already under its Call-ID.
    first = next(i for i, (_, msg) in enumerate(recs) if re.search(r"\bc1\b", msg))
    assert re.search(r"call c1: .*INVITE without offer to the device", recs[first][1])
    assert recs[first][0] == [device_id], recs[first]
    lines = assert_all_carry(recs[first:], r"\bc1\b", device_id,
                             [r"call c1: active", r"call c1: state active", r"call c1: ended", r"call c1: state ended"],
                             "service")
    for ids, msg in lines[next(i for i, (_, m) in enumerate(lines) if "call c1: active" in m):]:
        assert ids == [device_id, target_id], (ids, msg)
    # The conference server's lines about it name the same target leg: one Call-ID across parts.
    assert_all_carry(records(conference, "text"), r"\bp1\b", target_id, [r"joining as p1"], "conference")


def test_the_proxys_cancels_and_timeouts_carry_the_call_id(tmp_path):
    """A call cancelled while the callee rings, and one to where nothing answers: the
    proxy's lines about each (CANCEL, 487, the branch that never answered) carry its Call-ID."""
    trace = tmp_path / "alice.pcap"
    procs = []
    try:
        proxy = start(procs, Proxy(tmp_path, port=PROXY, extra=["--domain", "example.com", "--log-level", "debug",
                                                                 "--transaction-timeout", "2000"]))
        bob = start(procs, Phone(tmp_path, "bob", 5466, "--register", "sip:bob@example.com",
                                 "--proxy", f"sip:127.0.0.1:{PROXY}"))
        bob.wait_event("registration", status=200)
        alice = start(procs, Phone(tmp_path, "alice", ALICE, "--proxy", f"sip:127.0.0.1:{PROXY}", "--sip-trace", trace))
        alice.send("dial sip:bob@example.com")
        bob.wait_event("incoming")
        alice.send("hangup")
        alice.wait_event("terminated")
        alice.send("dial sip:carol@127.0.0.1:5469")  # nobody there
        wait_for(lambda: len(alice.events_named("terminated")) == 2, timeout=15, what="the second call to fail")
    finally:
        stop_all(*reversed(procs))

    invites = [m for m in sip_messages(trace) if m["method"] == "INVITE" and m["src"] == f"127.0.0.1:{ALICE}"]
    cancelled, unanswered = dict.fromkeys(m["call_id"] for m in invites)  # the two calls, in order
    recs = records(proxy, "text")
    assert_all_carry(recs, r"sip:bob@", cancelled,
                     [r"^INVITE sip:bob@example\.com: forwarded to sip:bob@127\.0\.0\.1:5466",
                      r"^INVITE sip:bob@example\.com: CANCEL from upstream, cancelling 1 pending branch",
                      r"^INVITE sip:bob@example\.com: .* answered 487"], "proxy")
    assert_all_carry(recs, r"sip:carol@", unanswered,
                     [r"^INVITE sip:carol@\S+: (no answer from sip:carol@\S+ \(408 timeout\)|sip:carol@\S+ unreachable)"],
                     "proxy")
