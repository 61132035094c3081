"""confab service's low-level SIP access with real peers on loopback: <Tunnel>
(raw requests out of dialog and inside a loop-mode call's dialogs, every response
back as <TunnelResponse>), incoming requests as <TunnelRequest> events, `confab
tunnel`, the plugin interface with the example Message plugin, and hostile input.

Ports of this file only (other files run at the same time): mixer 6090 (HTTP 6091,
RTP 40000-40999), conference 6080 (admin 6081), service 6062, phones 6100-6199
(RTP in 41000-41999), SIPp 6200-6299."""
import os
import shutil
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from confab_testlib import (CONFAB, Conference, Mixer, Phone, Service, sip_exchange, start, start_sipp,
                            stop_all, wait_for)

SVC = 6062
ME = f"sip:alice@127.0.0.1:{SVC}"
CONF = "127.0.0.1:6080"
PLUGIN = Path(CONFAB).resolve().parent / "plugins" / "confab-message.so"


def tunnel(client, raw, **attrs):
    """Sends <Tunnel attrs>raw</Tunnel>; returns (its <Result>, the tag its events carry)."""
    el = ET.Element("Tunnel", {k: str(v) for k, v in attrs.items()})
    el.text = raw
    r = client.call(ET.tostring(el, encoding="unicode"))
    return r, r.get("tag")


def responses(client, tag, timeout=15):
    """The <TunnelResponse> events of one request, up to and including the final one;
    other messages read meanwhile stay queued for later."""
    got, kept = [], []
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            m = client.next(max(0.0, deadline - time.time()))
            if m is None:
                continue
            if m.tag == "TunnelResponse" and m.get("tag") == tag:
                got.append(m)
                if int(m.get("status")) >= 200:
                    return got
            else:
                kept.append(m)
        raise AssertionError(f"no final TunnelResponse for {tag} within {timeout}s (got {[e.attrib for e in got]})")
    finally:
        client.inbox[:0] = kept


def events(client, name, seconds=10.0, **match):
    """The first event named `name` whose attributes match; the others read
    meanwhile stay queued."""
    kept = []
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            m = client.next(max(0.0, deadline - time.time()))
            if m is None:
                continue
            if m.tag == name and all(m.get(k) == v for k, v in match.items()):
                return m
            kept.append(m)
        raise AssertionError(f"no event {name} {match} within {seconds}s (got {[(e.tag, e.attrib) for e in kept]})")
    finally:
        client.inbox[:0] = kept


def sip_message(to_port, from_port, body, user="bob", display="Bob", content_type="text/plain"):
    """A MESSAGE from 127.0.0.1:from_port to the service, as a peer would send it."""
    b = body.encode()
    return (f"MESSAGE sip:alice@127.0.0.1:{to_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{from_port};branch=z9hG4bK{uuid.uuid4().hex[:12]}\r\n"
            f"From: \"{display}\" <sip:{user}@127.0.0.1:{from_port}>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <sip:alice@127.0.0.1:{to_port}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}@127.0.0.1\r\n"
            f"CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(b)}\r\n\r\n").encode() + b


def status_of(response):
    assert response, "no response"
    return int(response.split(" ", 2)[1])


def plugin_dir(tmp_path, *extra):
    """A private directory holding the Message plugin and `extra` (name, bytes or path) files."""
    assert PLUGIN.exists(), f"{PLUGIN} is missing: build it with ninja -C build confab_plugin_message"
    d = Path(tmp_path) / "plugins"
    d.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(PLUGIN, d / "confab-message.so")
    for name, content in extra:
        if isinstance(content, bytes):
            (d / name).write_bytes(content)
        else:
            shutil.copy(content, d / name)
    return d


def test_options_out_of_dialog_to_the_conference_server_and_the_command_line(tmp_path):
    procs = []
    try:
        start(procs, Conference(tmp_path, port=6080, mixer="sip:127.0.0.1:6090", admin_port=6081))
        svc = start(procs, Service(tmp_path, sip_port=SVC))
        c = svc.client()
        raw = (f"OPTIONS sip:{CONF} SIP/2.0\n"
               "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKpasted\n"
               "CSeq: 77 OPTIONS\n"
               "Accept: application/sdp\n\n")
        r, tag = tunnel(c, raw)
        assert r.get("status") == "ok" and r.get("reason") == "sent", r.attrib
        assert r.get("method") == "OPTIONS" and r.get("ignored") == "Via CSeq", r.attrib
        final = responses(c, tag)[-1]
        assert final.get("status") == "200" and final.get("method") == "OPTIONS", final.attrib
        text = final.text
        assert text.startswith("SIP/2.0 200 OK\r\n"), text
        assert "192.0.2.7" not in text and "CSeq: 77" not in text  # the stack wrote its own Via and CSeq
        assert "Allow:" in text and f"sip:{CONF}" in text

        # The same through `confab tunnel FILE` (CRLF in the file), and from standard input.
        f = Path(tmp_path) / "options.sip"
        f.write_bytes(raw.replace("\n", "\r\n").encode())
        rc, out, err = svc.cli("tunnel", str(f))
        lines = out.strip().splitlines()
        assert rc == 0, out + err
        assert lines[0].startswith("<Result") and 'status="ok"' in lines[0], out
        assert lines[-1].startswith("<TunnelResponse") and 'status="200"' in lines[-1], out
        p = subprocess.run([CONFAB, "tunnel", "--text", "-"], input=raw, env=svc.env, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0 and p.stdout.startswith("SIP/2.0 200 OK"), p.stdout + p.stderr
        rc, out, err = svc.cli("tunnel", "--call", "c42", str(f))
        assert rc == 1 and "404" in err, out + err
    finally:
        stop_all(*reversed(procs))


def message_uas(tmp_path, procs, port, provisional, status, reason):
    """A SIPp UAS on `port` answering one MESSAGE with `provisional`, then `status reason`; (proc, its message log)."""
    log = Path(tmp_path) / f"uas-{port}-messages.log"
    uas = start(procs, start_sipp("uas_request.xml", None, port, tmp_path,
                                  extra=["-m", "1", "-trace_msg", "-message_file", log],
                                  template={"method": "MESSAGE", "provisional": provisional, "status": status,
                                            "reason": reason}))
    return uas, log


def test_message_to_a_sipp_uas_reports_provisional_and_final_responses(tmp_path):
    procs = []
    try:
        uas, log = message_uas(tmp_path, procs, 6200, "182 Queued", 202, "Accepted")
        svc = start(procs, Service(tmp_path, sip_port=SVC))
        c = svc.client()
        raw = ("MESSAGE sip:bob@127.0.0.1:6200 SIP/2.0\n"
               "From: \"Alice\" <sip:alice@example.com>\n"
               "Subject: tunnel test\n"
               "Content-Type: text/plain\n\n"
               "raw hello through the tunnel")
        r, tag = tunnel(c, raw)
        assert r.get("status") == "ok", r.attrib
        got = responses(c, tag)
        assert [e.get("status") for e in got] == ["182", "202"], [e.attrib for e in got]
        assert got[-1].get("reason") == "Accepted" and got[-1].text.startswith("SIP/2.0 202 Accepted")
        wait_for(lambda: uas.p.poll() is not None, what="SIPp done")
        assert uas.p.returncode == 0, uas.output()
        seen = log.read_text(errors="replace")
        assert "raw hello through the tunnel" in seen and "Subject: tunnel test" in seen, seen
        assert "sip:alice@example.com" in seen  # the From of the text is used out of dialog
    finally:
        stop_all(*reversed(procs))


def test_info_in_the_dialogs_of_a_loop_mode_call_into_a_conference(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path, port=6090, rtp="40000-40999", http_port=6091))
        start(procs, Conference(tmp_path, port=6080, mixer="sip:127.0.0.1:6090", admin_port=6081))
        dev = start(procs, Phone(tmp_path, "dev", 6100, "--auto-answer", "--tone", "700", rtp="41000-41039"))
        svc = start(procs, Service(tmp_path, sip_port=SVC, devices=["desk=sip:dev@127.0.0.1:6100"],
                                   default_device="desk"))
        watcher = svc.client()
        assert watcher.call('<Subscribe events="tunnel calls"/>').get("status") == "ok"
        c = svc.client()
        j = c.call(f'<Join id="sip:room5@{CONF}"/>')
        assert j.get("status") == "ok", j.attrib
        call = j.get("call")

        # INFO in the dialog with the conference: the text's dialog fields are ignored, the dialog's used.
        raw = ("INFO sip:somewhere@192.0.2.1 SIP/2.0\n"
               "From: <sip:mallory@example.com>;tag=x\nTo: <sip:room5@elsewhere>\nCall-ID: not-this-one\n"
               "Content-Type: application/x-confab-test\n\nping")
        r, tag = tunnel(c, raw, call=call)
        assert r.get("status") == "ok" and r.get("call") == call and r.get("leg") == "target", r.attrib
        assert r.get("ignored") == "Request-URI Call-ID From To", r.attrib
        final = responses(c, tag)[-1]
        assert final.get("status") == "200" and final.get("call") == call, final.attrib
        assert "not-this-one" not in final.text and "mallory" not in final.text
        # A refusal from the peer comes back the same way (participants may not steer the mixer).
        r, tag = tunnel(c, "INFO sip:x@y SIP/2.0\nContent-Type: application/vnd.confab.mixer+json\n\n{\"action\":\"mute\"}",
                        call=call)
        assert responses(c, tag)[-1].get("status") == "403"

        # INFO to the device, in the service's dialog with it.
        r, tag = tunnel(c, "INFO sip:dev SIP/2.0\nContent-Type: text/plain\n\nhello device", call=call, leg="device")
        assert r.get("leg") == "device", r.attrib
        assert responses(c, tag)[-1].get("status") == "200"

        # Requests that would break the service's own hold on the call.
        for method in ("BYE", "INVITE", "UPDATE", "ACK", "REGISTER"):
            r, _ = tunnel(c, f"{method} sip:x@y SIP/2.0\n\n", call=call)
            assert r.get("status") == "error" and r.get("code") == "403", (method, r.attrib)
        calls = c.call("<Calls/>").find("Calls")
        assert [(x.get("id"), x.get("state")) for x in calls] == [(call, "active")]

        # The device sends INFO in its dialog: subscribers of "tunnel" get it, the device gets 200.
        dev.send("info application/x-dtmf-test digit=5")
        e = events(watcher, "TunnelRequest", 5, method="INFO", call=call, leg="device")
        assert e.get("status") == "200" and "digit=5" in e.text, e.attrib
        dev.wait_event("info-response", status=200)
        assert c.call("<Hangup/>").get("status") == "ok"
        events(watcher, "Call", 5, id=call, state="ended")
        r, _ = tunnel(c, "INFO sip:x@y SIP/2.0\n\n", call=call)
        assert r.get("code") == "404", r.attrib
    finally:
        stop_all(*reversed(procs))


def test_incoming_message_is_published_as_tunnel_request(tmp_path):
    procs = []
    try:
        svc = start(procs, Service(tmp_path, sip_port=SVC))
        # Nobody listens: refused as before.
        assert status_of(sip_exchange(sip_message(SVC, 6201, "anyone?"), SVC, local_port=6201)) == 405
        w = svc.client()
        bad = w.call('<Subscribe events="tunnel gossip"/>')
        assert bad.get("code") == "400" and "tunnel" in bad.get("reason"), bad.attrib
        assert w.call('<Subscribe events="tunnel"/>').get("status") == "ok"
        assert status_of(sip_exchange(sip_message(SVC, 6201, "hello service"), SVC, local_port=6201)) == 200
        e = events(w, "TunnelRequest", method="MESSAGE")
        assert e.get("from") == "sip:bob@127.0.0.1:6201" and e.get("status") == "200", e.attrib
        assert e.text.startswith(f"MESSAGE sip:alice@127.0.0.1:{SVC} SIP/2.0") and e.text.endswith("hello service")
    finally:
        stop_all(*reversed(procs))


def test_message_plugin_sends_and_publishes_messages(tmp_path):
    procs = []
    try:
        uas, log = message_uas(tmp_path, procs, 6202, "100 Trying", 200, "OK")
        svc = start(procs, Service(tmp_path, sip_port=SVC, extra=["--plugin-dir", plugin_dir(tmp_path)]))
        wait_for(lambda: "plugin confab-message loaded" in svc.output(), what="plugin loaded")
        c = svc.client()
        r = c.call('<Message to="sip:bob@127.0.0.1:6202">hello bob, from the plugin</Message>')
        assert r.get("status") == "ok" and r.get("sip_status") == "200", r.attrib
        wait_for(lambda: uas.p.poll() is not None, what="SIPp done")
        seen = log.read_text(errors="replace")
        assert "hello bob, from the plugin" in seen and "Content-Type: text/plain" in seen, seen
        assert c.call('<Message>no address</Message>').get("code") == "400"
        r = c.call('<Message to="sip:nobody@127.0.0.1:6299">lost</Message>', timeout=40)
        assert r.get("status") == "error" and int(r.get("code")) >= 400, r.attrib

        # Incoming: 480 while nobody listens, then published to "messages" subscribers.
        assert status_of(sip_exchange(sip_message(SVC, 6203, "too early", user="carol", display="Carol"), SVC,
                                      local_port=6203)) == 480
        w = svc.client()
        assert w.call('<Subscribe events="messages tunnel"/>').get("status") == "ok"
        assert status_of(sip_exchange(sip_message(SVC, 6203, "hi alice", user="carol", display="Carol"), SVC,
                                      local_port=6203)) == 200
        m = events(w, "Message")
        assert (m.get("from"), m.get("display"), m.text) == ("sip:carol@127.0.0.1:6203", "Carol", "hi alice"), m.attrib
        assert events(w, "TunnelRequest", method="MESSAGE").get("status") == "200"  # tunnel listeners see it too
        assert status_of(sip_exchange(sip_message(SVC, 6203, "<b/>", content_type="application/xml"), SVC,
                                      local_port=6203)) == 415
    finally:
        stop_all(*reversed(procs))


def test_missing_and_broken_plugins_are_skipped_with_a_log_line(tmp_path):
    procs = []
    try:
        libz = next(p for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1")
                    if os.path.exists(p))
        d = plugin_dir(tmp_path, ("broken.so", b"this is not an ELF file\n"), ("zlib.so", libz),
                       ("notes.txt", b"not a .so: ignored"))
        svc = start(procs, Service(tmp_path, sip_port=SVC, extra=["--plugin-dir", d]))
        wait_for(lambda: "plugins: 1 loaded" in svc.output(), what="plugin summary")
        out = svc.output()
        assert f"plugin {d}/broken.so skipped:" in out, out
        assert f"plugin {d}/zlib.so skipped: not a Confab plugin" in out, out
        assert "notes.txt" not in out
        c = svc.client()
        assert c.call('<Message to="sip:x@127.0.0.1:6299"/>').get("code") == "400"  # the good one works
        assert c.call("<Calls/>").get("status") == "ok"
        stop_all(svc)
        procs.remove(svc)

        # A directory that does not exist, and one others may write to: logged, the service runs.
        svc = start(procs, Service(tmp_path, sip_port=SVC, extra=["--plugin-dir", Path(tmp_path) / "nope"],
                                   name="service-2"))
        wait_for(lambda: "not loading any from" in svc.output(), what="missing directory logged")
        assert "does not exist" in svc.output()
        assert svc.client().call("<Message/>").get("code") == "501"  # no such command without the plugin
        stop_all(svc)
        procs.remove(svc)
        os.chmod(d, 0o777)
        svc = start(procs, Service(tmp_path, sip_port=SVC, extra=["--plugin-dir", d], name="service-3"))
        wait_for(lambda: "others may write to it" in svc.output(), what="unsafe directory logged")
        assert svc.client().call("<Calls/>").get("status") == "ok"
    finally:
        stop_all(*reversed(procs))


def test_hostile_tunnel_input_gets_clear_errors_and_the_service_still_serves(tmp_path):
    procs = []
    try:
        svc = start(procs, Service(tmp_path, sip_port=SVC))
        c = svc.client()
        cases = [
            ({}, "NOT SIP AT ALL", 400, "line 1"),
            ({}, "", 400, "empty request"),
            ({}, "OPTIONS sip:x@y SIP/2.0\nFrom: <<<\n\n", 400, "From field"),
            ({}, "MESSAGE sip:x@y SIP/2.0\nContent-Length: 99\nContent-Type: text/plain\n\nshort", 400, "Content-Length"),
            ({}, "SIP/2.0 200 OK\n\n", 400, "response"),
            ({}, "INVITE sip:x@y SIP/2.0\n\n", 403, "<Join>"),
            ({}, "SUBSCRIBE sip:x@y SIP/2.0\nEvent: presence\n\n", 403, "NOTIFY"),
            ({"call": "c99"}, "INFO sip:x@y SIP/2.0\n\n", 404, "no call 'c99'"),
            ({"leg": "device"}, "INFO sip:x@y SIP/2.0\n\n", 400, "leg= needs call="),
            ({"call": "c1", "leg": "sideways"}, "INFO sip:x@y SIP/2.0\n\n", 400, "leg must be"),
            ({}, "MESSAGE sip:x@y SIP/2.0\nContent-Type: text/plain\n\n" + "x" * 100_000, 413, "at most 65536"),
        ]
        for attrs, raw, code, says in cases:
            r, _ = tunnel(c, raw, **attrs)
            assert r.get("status") == "error" and r.get("code") == str(code), (raw[:40], r.attrib)
            assert says in r.get("reason"), (raw[:40], r.attrib)
        # CDATA keeps '<' readable; the request goes to the service's own stack, which answers OPTIONS.
        c.send_raw(f'<Tunnel tag="cd"><![CDATA[OPTIONS sip:127.0.0.1:{SVC} SIP/2.0\nTo: <sip:me@127.0.0.1>\n\n]]>'
                   '</Tunnel>\n')
        assert responses(c, "cd")[-1].get("status") == "200"

        # 1 MB: beyond what the API stream takes in one message; that connection ends with a clear error.
        big = svc.client()
        try:
            big.send_raw("<Tunnel>MESSAGE sip:x@y SIP/2.0\nContent-Type: text/plain\n\n" + "y" * 1_000_000 +
                         "</Tunnel>\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the service stops reading at its limit; its answer is already on the way
        r = big.next(10)
        assert r is not None and r.tag == "Result" and r.get("code") == "400" and "larger than" in r.get("reason")
        wait_for(lambda: big.next(0.2) is None and big.closed, what="oversized connection closed")
        assert c.call("<Calls/>").get("status") == "ok"
        assert svc.client().call("<Calls/>").get("status") == "ok"
        assert svc.alive()
    finally:
        stop_all(*reversed(procs))
