"""Sends one SIP message byte-exact over UDP or TCP and collects what comes back,
for test_torture.py (the RFC 4475 torture messages)."""
import re
import socket
import time

CRLF = b"\r\n"
LWS = rb"(?:[ \t]|\r\n[ \t])*"  # linear white space: blanks, line folding
TOP_VIA = re.compile(rb"(?im)^(?:via|v)" + LWS + rb":" + LWS + rb"SIP" + LWS + rb"/" + LWS + rb"[\d.]+" + LWS + rb"/" +
                     LWS + rb"(\w+)" + LWS + rb"([^;,\s]+)([^\r\n]*)")


def top_via(data):
    """(transport, port, rport) of a message's first Via (the header or its compact form)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    m = TOP_VIA.search(head)
    if not m:
        return None, 5060, False
    host_port, port = m.group(2), 5060
    if not host_port.startswith(b"[") and host_port.count(b":") == 1:
        port = int(host_port.split(b":")[1])
    return m.group(1).decode().lower(), port, b";rport" in m.group(3)


def sent_over(data, transport):
    """`data` with its top Via naming `transport` (UDP or TCP) as the one it travels on.
    The RFC's messages name the transport they were captured on (mostly UDP); RFC 3261
    18.1.1 has a client put the transport it sends on into its Via, and a server may
    refuse a request whose Via names another (Sofia-SIP does). Nothing else changes, and
    a message whose Via already names `transport`, or that has no parsable Via, is sent
    as is."""
    head_end = data.find(b"\r\n\r\n")
    head = data if head_end < 0 else data[:head_end]
    m = TOP_VIA.search(head)
    if not m or m.group(1).lower() == transport.encode():
        return data
    return data[:m.start(1)] + transport.upper().encode() + data[m.end(1):]


def split_messages(buf):
    """Complete SIP messages at the start of a byte stream (framed by Content-Length),
    and what is left over."""
    out = []
    while b"\r\n\r\n" in buf:
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        if m:
            length = int(m.group(1))
        if len(rest) < length:
            break
        out.append(head + b"\r\n\r\n" + rest[:length])
        buf = rest[length:]
    return out, buf


def header(msg, *names):
    head = msg.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in names:
            return value.strip()
    return None


def status_of(msg):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", msg)
    return int(m.group(1)) if m else None


def dialog_lines(response):
    names = {"via": "v", "from": "f", "to": "t", "call-id": "i"}
    return [f"{name}: {header(response, name, short)}" for name, short in names.items()]


def ack_non_2xx(request_uri, response):
    """The ACK of a non-2xx final response to an INVITE (RFC 3261 17.1.1.3): it stops
    the server retransmitting the response."""
    cseq = header(response, "cseq").split()[0]
    return (f"ACK {request_uri} SIP/2.0\r\n" + "\r\n".join(dialog_lines(response)) +
            f"\r\nMax-Forwards: 70\r\nCSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n").encode()


def ack_and_bye(response):
    """An ACK and a BYE for the dialog a 2xx to an INVITE set up, so no call stays up."""
    lines = dialog_lines(response)
    cseq = int(header(response, "cseq").split()[0])
    target = header(response, "contact", "m") or ""
    uri = target[target.find("<") + 1:target.find(">")] if "<" in target else target.split(";")[0]
    def request(method, number, branch):
        via = lines[0].split(";branch=")[0] + f";branch=z9hG4bK{branch}"
        return (f"{method} {uri} SIP/2.0\r\n{via}\r\n" + "\r\n".join(lines[1:]) +
                f"\r\nMax-Forwards: 70\r\nCSeq: {number} {method}\r\nContent-Length: 0\r\n\r\n").encode()
    return request("ACK", cseq, "torture-ack"), request("BYE", cseq + 1, "torture-bye")


class Exchange:
    """The responses one message got: `finals` (status codes of the final responses, in
    order) and `all` (every message received)."""

    def __init__(self, data):
        head = data.split(b"\r\n\r\n", 1)[0]
        # The message's Call-IDs: answers to earlier messages (retransmissions) are not its own.
        self.call_ids = {m.group(1).strip() for m in re.finditer(rb"(?im)^(?:call-id|i)[ \t]*:([^\r\n]*)", head)}
        parts = head.split(None, 2)
        self.request_uri = parts[1].decode(errors="replace") if len(parts) > 1 else ""
        self.all = []
        self.finals = []
        self.call_up = False  # a 2xx to an INVITE came: ACK and BYE sent
        self.bye_done = False

    def done(self, wanted):
        return len(self.finals) >= wanted and (not self.call_up or self.bye_done)

    def take(self, msg, send):
        call_id = (header(msg, "call-id", "i") or "").encode()
        if self.call_ids and call_id not in self.call_ids:
            return
        self.all.append(msg)
        status = status_of(msg)
        if status is None:
            return  # a request from the server (none expected)
        if status < 200:
            return
        method = (header(msg, "cseq") or "").split()[-1:]
        if method == ["BYE"] and self.call_up:
            self.bye_done = True
            return
        self.finals.append(status)
        if status >= 300 and method == ["INVITE"]:
            send(ack_non_2xx(self.request_uri, msg))
        if 200 <= status < 300 and method == ["INVITE"] and not self.call_up:
            self.call_up = True
            ack, bye = ack_and_bye(msg)
            send(ack)
            send(bye)

    def __repr__(self):
        return repr(self.finals or None)


def send_udp(data, port, wanted=1, wait=3.0, quiet=0.5):
    """Sends `data` in one datagram from the port its top Via names (the server answers
    there: RFC 3261 18.2.2) and collects answers until `wanted` final responses came (plus
    the BYE's when a call was set up), or `wait` seconds passed; with `wanted` 0 listens
    `quiet` seconds for anything."""
    _, via_port, rport = top_via(data)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0 if rport else via_port))
    ex = Exchange(data)
    try:
        s.sendto(data, ("127.0.0.1", port))
        deadline = time.monotonic() + (wait if wanted else quiet)
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = s.recv(65535)
            except socket.timeout:
                break
            ex.take(msg, lambda b: s.sendto(b, ("127.0.0.1", port)))
            if wanted and ex.done(wanted):
                break
    finally:
        s.close()
    return ex


def send_tcp(data, port, wanted=1, wait=3.0, quiet=0.5):
    """The same over one TCP connection; the answers come back on it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    ex = Exchange(data)
    buf = b""
    try:
        s.sendall(data)
        deadline = time.monotonic() + (wait if wanted else quiet)
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65535)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            msgs, buf = split_messages(buf + chunk)
            for msg in msgs:
                ex.take(msg, s.sendall)
            if wanted and ex.done(wanted):
                break
    finally:
        s.close()
    return ex


def options_ping(port, transport="udp"):
    """Status of an OPTIONS to the server itself, or None: is it still answering?"""
    tag = str(time.monotonic_ns())
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.settimeout(2.0)
        if transport == "udp":
            s.bind(("127.0.0.1", 0))
        else:
            s.connect(("127.0.0.1", port))
        local = s.getsockname()[1]
        data = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:{local};rport;branch=z9hG4bKping{tag}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:ping@127.0.0.1>;tag={tag}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
                f"Call-ID: ping-{tag}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
        if transport == "udp":
            s.sendto(data, ("127.0.0.1", port))
        else:
            s.sendall(data)
        buf = b""
        while True:
            buf += s.recv(65535)
            msgs, buf = split_messages(buf)
            for m in msgs:
                status = status_of(m)
                if status and status >= 200:
                    return status
    except OSError:
        return None
    finally:
        s.close()
