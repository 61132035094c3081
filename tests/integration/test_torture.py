"""The 49 torture messages of RFC 4475 (rfc4475/*.dat, the RFC's own bytes) sent to every
SIP server of the project: `confab proxy`, `confab conference` (with its mixer), `confab
mixer` and `confab service`, each message over UDP and over TCP. Each answer is checked
against what section 3 of the RFC asks of a proxy or of an endpoint (EXPECTED below), the
same message must get the same answer over either transport (the exceptions are the RFC's
own: framing that only a datagram gives), and after each message the server must still
answer an OPTIONS.

What is adjusted, and only that:
- the transport in the top Via is the one the message travels on (torture_client.sent_over):
  the RFC's messages name the transport they were captured on, mostly UDP, and a stack may
  refuse a request whose Via names another (RFC 3261 18.1.1; Sofia-SIP does: counted as
  confab_sip_dropped_messages_total{reason="via_transport"});
- nothing else: the Request-URIs keep the RFC's hosts. The proxy is told those domains are
  its own (--domain), so it answers for them instead of looking them up in DNS, and where
  a Route leads elsewhere (mpart01's strict Route to 127.0.0.1:5080, wsinv's
  services.example.com, given to the proxy with --route) a stub UAS on 127.0.0.1:5080
  answers.
The test client sends from, and listens on, the port the top Via names (5060, or any with
rport): RFC 3261 18.2.2 has a server send its responses there.
"""
import socket
import threading
from pathlib import Path

import pytest

from confab_testlib import Conference, Mixer, Proxy, Service, stop_all
from torture_client import header, options_ping, send_tcp, send_udp, sent_over, status_of

MESSAGES = Path(__file__).resolve().parent / "rfc4475"
NAMES = sorted(p.stem for p in MESSAGES.glob("*.dat"))

# Answers, as sets of acceptable final statuses; NONE: nothing may come back.
NONE = frozenset()
ANY_FINAL = frozenset(range(200, 700))
BAD = {400}
# "Processed": whatever the server does with a valid request of that kind. A proxy
# answers for the RFC's domains (its own here): 404 for their unknown users, 200 for a
# REGISTER; an endpoint answers OPTIONS 200, REGISTER 405 (it is no registrar), an unknown
# method 501, an INVITE by joining (mixer, conference: 200) or, for the client service,
# which has no device to ring, 480.
PROXY_OPTIONS, PROXY_INVITE, PROXY_REGISTER, PROXY_OTHER = {404}, {404}, {200}, {404}
ENDPOINT_OPTIONS, ENDPOINT_REGISTER, ENDPOINT_UNKNOWN = {200}, {405}, {501}
ENDPOINT_INVITE = {"mixer": {200}, "conference": {200}, "service": {480}}

# name -> (RFC 4475 section, what the RFC asks, {kind: statuses}); kind "endpoint" stands for
# the mixer, the conference server and the client service unless they are named themselves.
P, E = "proxy", "endpoint"
EXPECTED = {
    # 3.1.1 Valid messages: processed.
    "wsinv": ("3.1.1.1", "valid; To has a tag: no such dialog (the proxy follows the Route)", {P: {481}, E: {481}}),
    "intmeth": ("3.1.1.2", "valid, unknown method: 501 at an endpoint", {P: PROXY_OTHER, E: ENDPOINT_UNKNOWN}),
    "esc01": ("3.1.1.3", "valid %-escapes", {P: PROXY_INVITE, E: ENDPOINT_INVITE,
                                               # the unescaped user part "sips:user@example.com"
                                               # can be no conference's id: said so
                                               "conference": {404}}),
    "escnull": ("3.1.1.4", "valid %00 escapes", {P: PROXY_REGISTER, E: ENDPOINT_REGISTER}),
    "esc02": ("3.1.1.5", "valid; method RE%47IST%45R is not REGISTER", {P: PROXY_OTHER, E: ENDPOINT_UNKNOWN}),
    "lwsdisp": ("3.1.1.6", "valid", {P: PROXY_OPTIONS, E: ENDPOINT_OPTIONS}),
    "longreq": ("3.1.1.7", "valid; a bad rtpmap on the video line", {P: PROXY_INVITE, E: ENDPOINT_INVITE}),
    "dblreq": ("3.1.1.8", "valid; trailing octets of the datagram ignored", {P: PROXY_REGISTER, E: ENDPOINT_REGISTER}),
    "semiuri": ("3.1.1.9", "valid", {P: PROXY_OPTIONS, E: ENDPOINT_OPTIONS}),
    "transports": ("3.1.1.10", "valid", {P: PROXY_OPTIONS, E: ENDPOINT_OPTIONS}),
    "mpart01": ("3.1.1.11", "valid MESSAGE; strict Route to 127.0.0.1:5080", {P: {200}, E: {405}}),
    "unreason": ("3.1.1.12", "a response: never answered", {P: NONE, E: NONE}),
    "noreason": ("3.1.1.13", "a response: never answered", {P: NONE, E: NONE}),
    # 3.1.2 Invalid messages. Where the RFC allows "400, or processed" and the stack lets the
    # message through, an endpoint must process it: its 400 would come from elsewhere
    # (lwsstart, escruri, baddate carry the SDP of 3.1.1.7 that the mixer once refused).
    "badinv01": ("3.1.2.1", "400", {P: BAD, E: BAD}),
    "clerr": ("3.1.2.2", "400 over UDP; over TCP the rest is awaited", {P: BAD, E: BAD}),
    "ncl": ("3.1.2.3", "400", {P: BAD, E: BAD}),
    "scalar02": ("3.1.2.4", "400", {P: BAD, E: BAD}),
    "scalarlg": ("3.1.2.5", "a response: never answered", {P: NONE, E: NONE}),
    "quotbal": ("3.1.2.6", "400", {P: BAD, E: BAD}),
    "ltgtruri": ("3.1.2.7", "400", {P: BAD, E: BAD}),
    "lwsruri": ("3.1.2.8", "400", {P: BAD, E: BAD}),
    "lwsstart": ("3.1.2.9", "400, or processed", {P: BAD | PROXY_INVITE, E: ENDPOINT_INVITE}),
    "trws": ("3.1.2.10", "400, or processed", {P: BAD | PROXY_OPTIONS, E: BAD | ENDPOINT_OPTIONS}),
    "escruri": ("3.1.2.11", "400, or processed ignoring the headers", {P: BAD | PROXY_INVITE, E: ENDPOINT_INVITE}),
    "baddate": ("3.1.2.12", "400, or processed", {P: BAD | PROXY_INVITE, E: ENDPOINT_INVITE}),
    "regbadct": ("3.1.2.13", "400, or processed", {P: BAD | PROXY_REGISTER, E: BAD | ENDPOINT_REGISTER}),
    "badaspec": ("3.1.2.14", "400, or processed", {P: BAD | PROXY_OPTIONS, E: BAD | ENDPOINT_OPTIONS}),
    "baddn": ("3.1.2.15", "400 (over TCP: no blank line ends it)", {P: BAD, E: BAD}),
    "badvers": ("3.1.2.16", "505", {P: {505}, E: {505}}),
    "mismatch01": ("3.1.2.17", "400", {P: BAD, E: BAD}),
    "mismatch02": ("3.1.2.18", "400", {P: BAD, E: BAD}),
    "bigcode": ("3.1.2.19", "a response: never answered", {P: NONE, E: NONE}),
    # 3.2 Transaction layer.
    "badbranch": ("3.2.1", "processed (branch without a transaction id)", {P: PROXY_OPTIONS, E: ENDPOINT_OPTIONS}),
    # 3.3 Application layer.
    "insuf": ("3.3.1", "400", {P: BAD, E: BAD}),
    "unkscm": ("3.3.2", "416", {P: {416}, E: {416}}),
    "novelsc": ("3.3.3", "416", {P: {416}, E: {416}}),
    "unksm2": ("3.3.4", "processed", {P: "any_final", E: ENDPOINT_REGISTER}),
    "bext01": ("3.3.5", "420 with Unsupported", {P: {420}, E: {420}}),
    "invut": ("3.3.6", "415 at an endpoint", {P: PROXY_INVITE, E: {415}}),
    "regaut01": ("3.3.7", "processed (or 401)", {P: PROXY_REGISTER | {401}, E: ENDPOINT_REGISTER}),
    "multi01": ("3.3.8", "400", {P: BAD, E: BAD}),
    "mcl01": ("3.3.9", "400", {P: BAD, E: BAD}),
    "bcast": ("3.3.10", "a response: never answered", {P: NONE, E: NONE}),
    "zeromf": ("3.3.11", "a proxy: 483; an endpoint: processed", {P: {483}, E: ENDPOINT_OPTIONS}),
    "cparam01": ("3.3.12", "processed", {P: PROXY_REGISTER, E: ENDPOINT_REGISTER}),
    "cparam02": ("3.3.13", "processed", {P: PROXY_REGISTER, E: ENDPOINT_REGISTER}),
    "regescrt": ("3.3.14", "processed (or 400)", {P: PROXY_REGISTER | BAD, E: ENDPOINT_REGISTER}),
    "sdp01": ("3.3.15", "406: the answer would be SDP, Accept excludes it", {P: PROXY_INVITE, E: {406},
                                                                          "service": ENDPOINT_INVITE["service"]}),
    # 3.4 Backward compatibility.
    "inv2543": ("3.4.1", "processed (over TCP: no Content-Length, 400)", {P: PROXY_INVITE, E: ENDPOINT_INVITE}),
}
assert sorted(EXPECTED) == NAMES, "one expectation per message of the RFC"

# Where the RFC's bytes frame differently over a stream: the same message is then not
# the same over TCP (RFC 3261 18.3: Content-Length frames messages on a stream).
TCP_EXPECTED = {
    "clerr": NONE,     # Content-Length 9999: a stream server waits for the rest (RFC 4475 3.1.2.2)
    "baddn": NONE,     # the archive's copy has no blank line after its headers: not complete yet
    "inv2543": BAD,    # no Content-Length: the SDP body is read as the next message's start
}

# What the project cannot do yet, each with why; strict: they fail the test once fixed.
KNOWN_FAILURES = {
    ("intmeth", "*", "*"): "Sofia-SIP's parser cannot read its start line: dropped, counted as unparsable",
    ("lwsruri", "*", "*"): "Sofia-SIP's parser cannot read its start line: dropped, counted as unparsable",
    ("badinv01", "*", "*"): "its only Via is broken: Sofia-SIP has nowhere to send the 400; counted as no_usable_via",
    ("badvers", "*", "udp"): "Sofia-SIP makes the 505 but cannot send it to a 'SIP/7.0/UDP' Via",
}

REGISTERS = [n for n in NAMES if (MESSAGES / f"{n}.dat").read_bytes().startswith(b"REGISTER")]
# REGISTERs last, so the proxy's registrations do not turn later requests into forwards.
ORDER = [n for n in NAMES if n not in REGISTERS] + REGISTERS
# The RFC's domains, which the proxy serves here (no DNS).
DOMAINS = ["example.com", "example.org", "example.net", "company.com", "registrar.example.com",
           "chair-dnrc.example.com"]


def expected(name, kind, transport):
    if transport == "tcp" and name in TCP_EXPECTED:
        return TCP_EXPECTED[name]
    _, _, table = EXPECTED[name]
    want = table.get(kind, table.get(E if kind != P else P))
    if want == "any_final":
        return ANY_FINAL
    if isinstance(want, dict):
        return want[kind]
    return want


def known_failure(name, kind, transport):
    for (n, k, t), why in KNOWN_FAILURES.items():
        if n == name and k in ("*", kind) and t in ("*", transport):
            return why
    return None


class StubUas:
    """A UAS on 127.0.0.1:5080 (UDP) where the proxy's Routes lead (mpart01's strict Route;
    wsinv's services.example.com through --route): it answers 481 to a request with a To
    tag (it has no dialogs), 200 to any other."""

    def __init__(self, port=5080):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", port))
        self.s.settimeout(0.2)
        self.requests = []
        self.running = True
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while self.running:
            try:
                data, peer = self.s.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if status_of(data) is not None or data.startswith(b"ACK "):
                continue
            self.requests.append(data)
            head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
            keep = [l for l in head[1:] if l.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
            to = next((l for l in keep if l.lower().startswith("to")), "")
            status = "481 Call/Transaction Does Not Exist" if ";tag=" in to.replace(" ", "") else "200 OK"
            self.s.sendto((f"SIP/2.0 {status}\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), peer)

    def stop(self):
        self.running = False
        self.t.join(2)
        self.s.close()


def start_servers(kind, tmp_path):
    """(procs, SIP port) of one kind of server, listening on UDP and TCP."""
    if kind == "proxy":
        extra = ["--transaction-timeout", "3000", "--route", "services.example.com=127.0.0.1:5080"]
        for d in DOMAINS:
            extra += ["--domain", d]
        return [Proxy(tmp_path, port=5160, extra=extra)], 5160
    if kind == "conference":
        mixer = Mixer(tmp_path, port=5190, http_port=5191)
        try:
            conf = Conference(tmp_path, port=5180, mixer="sip:127.0.0.1:5190", admin_port=5181,
                              extra=["--listen", "tcp:127.0.0.1:5180"])
        except BaseException:
            mixer.stop()
            raise
        return [conf, mixer], 5180
    if kind == "mixer":
        return [Mixer(tmp_path, port=5290, http_port=5291, extra=["--listen", "tcp:127.0.0.1:5290"])], 5290
    return [Service(tmp_path, sip_port=5162, extra=["--sip", "tcp:127.0.0.1:5162"])], 5162


def exchange(name, kind, port, transport):
    data = sent_over((MESSAGES / f"{name}.dat").read_bytes(), transport)
    answers_wanted = 1 if expected(name, kind, transport) else 0
    if name == "dblreq" and transport == "tcp":
        answers_wanted = 2  # on a stream the trailing INVITE is a second request
    send = send_udp if transport == "udp" else send_tcp
    # A server that should stay silent gets 1 s to prove it; an answer gets up to 6 s
    # (the proxy forwards mpart01), 2 s where it is known not to come.
    wait = 2.0 if known_failure(name, kind, transport) else 6.0
    return send(data, port, wanted=answers_wanted, wait=wait, quiet=1.0)


# Headers a status must carry (RFC 3261 21.4.6, 21.4.13, 21.4.15, 21.5.2).
MUST_CARRY = {405: "allow", 415: "accept", 420: "unsupported", 501: "allow"}


def first_final(ex):
    return next((m for m in ex.all if (status_of(m) or 0) >= 200), None)


@pytest.mark.parametrize("kind", ["proxy", "conference", "mixer", "service"])
def test_rfc4475_torture_messages(tmp_path, kind):
    stub = StubUas() if kind == "proxy" else None
    procs, port = start_servers(kind, tmp_path)
    table, wrong, fixed = [], [], []
    try:
        for name in ORDER:
            row = {}
            for transport in ("udp", "tcp"):
                ex = exchange(name, kind, port, transport)
                got = ex.finals[0] if ex.finals else None
                want = expected(name, kind, transport)
                ok = (got is None) if not want else (got in want)
                if ok and got in MUST_CARRY and header(first_final(ex), MUST_CARRY[got]) is None:
                    ok = False
                    got = f"{got} without {MUST_CARRY[got].title()}"
                why = known_failure(name, kind, transport)
                row[transport] = got
                shown = "a final response" if want == ANY_FINAL else sorted(want) or "no answer"
                line = f"{kind:10} {name:11} {transport}: got {got}, RFC 4475 {EXPECTED[name][0]}: {shown}"
                if ok and why:
                    fixed.append(line + f" (listed as a known failure: {why})")
                elif not ok and not why:
                    wrong.append(line)
                table.append(line + ("" if ok else f"  <- known: {why}" if why else "  <- WRONG"))
                alive = options_ping(port)
                assert alive is not None, f"{kind} stopped answering after {name} over {transport}\n" + "\n".join(table)
                assert all(p.alive() for p in procs), f"{kind} died after {name} over {transport}"
            # The same message, the same answer, whichever the transport (but where the
            # RFC's bytes frame differently on a stream).
            if name not in TCP_EXPECTED and not known_failure(name, kind, "udp") and not known_failure(name, kind, "tcp"):
                if row["udp"] != row["tcp"]:
                    wrong.append(f"{kind:10} {name:11} udp {row['udp']} but tcp {row['tcp']}")
        if kind == "proxy":
            assert any(b"kumiko@example.org" in r for r in stub.requests), "mpart01 did not reach its strict Route"
        if kind == "mixer":
            # What the stack could not answer is counted (intmeth and lwsruri, badinv01; each twice).
            metrics = procs[0].metrics()
            dropped = {r: metrics.get(f'confab_sip_dropped_messages_total{{reason="{r}"}}', 0)
                       for r in ("unparsable", "no_usable_via")}
            assert dropped["unparsable"] >= 4 and dropped["no_usable_via"] >= 2, dropped
            # and what it read past in an offer is said (longreq's video line).
            assert 'ignored in the offer: "a=rtpmap:31 LPC"' in procs[0].output()
    finally:
        stop_all(*procs)
        if stub:
            stub.stop()
    print("\n".join(table))
    assert not wrong, "answers not as RFC 4475 asks:\n" + "\n".join(wrong) + "\n\nall:\n" + "\n".join(table)
    assert not fixed, "known failures that pass now (remove them from KNOWN_FAILURES):\n" + "\n".join(fixed)
