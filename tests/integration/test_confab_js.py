"""confab.js in Debian's Chromium (tests/browser/web.mjs): pages that include it
with data-confab="auto" drive each visitor's own `confab service`, whose device
is a `confab phone` playing a tone of its own. Three visitors of one page hear
each other and see each other listed; following a link moves a visitor's call
with no gap and no BYE, and the others' lists drop it; every way of not getting
in is said in the page (no service, an origin not approved yet, the browser's
Local Network Access permission refused, the device choice declined); of two
tabs the visible one owns the voice, and closing them ends the call after the
service's leave grace. A page may not send raw SIP (Tunnel) or approve origins
through confab.js: 403 once its origin is approved, no connection before.

The site is `confab web` serving the example site (packaging/site), whose
pages' Content-Security-Policy lets them reach each visitor's service. For the
Local Network Access test its address counts as public and it is served over
HTTPS, as a public site must be for Chromium to grant the permission: a TLS
proxy (TlsProxy) in front of it, with a certificate from a CA made for the test,
which the browser trusts by the certificate's key (--spki); its pages still
reach the services' ws://127.0.0.1 (loopback is not mixed content)."""
import json
import os

import pytest

from confab_testlib import (ROOT, BrowserDriver, Conference, Mixer, Phone, Service, TlsProxy, Web, hears, start, stop_all, switch_gap_ms,
                            tls_certificate, wait_for)

SITE_PORT = 8080
VISITORS = 3  # at most: their services' web APIs are on 6166, 6167, 6168
ORIGIN = f"http://127.0.0.1:{SITE_PORT}"
CONF = "127.0.0.1:5080"
DUNE, ALIEN = f"sip:web-films-dune@{CONF}", f"sip:web-films-alien@{CONF}"


def panel(text):
    """'STATE | status | message | viewers | phone' as a dict."""
    state, status, message, viewers, phone = [x.strip() for x in text.split(" | ")]
    return {"state": state, "status": status, "message": message, "viewers": viewers.split(), "phone": phone}


@pytest.fixture
def network(tmp_path):
    """A mixer, a conference server (admin API on 5081) and the site; yields (conference, procs)."""
    procs = []
    start(procs, Mixer(tmp_path))
    conf = start(procs, Conference(tmp_path))
    # The pages may reach the default service address and each visitor's own.
    apis = [a for port in (5066, *range(6166, 6166 + VISITORS)) for a in ("--service-api", f"127.0.0.1:{port}")]
    try:
        start(procs, Web(tmp_path, str(ROOT / "packaging" / "site"), *apis, port=SITE_PORT))
        yield conf, procs
    finally:
        stop_all(*reversed(procs))


def visitor_service(tmp_path, procs, name, i, tone=None, approve=ORIGIN, extra=(), env=None, devices=None):
    """Visitor `name`'s phone (tone) and own service (web API on 6166+i), which has approved the
    origin `approve` (none if false); returns (phone, service, ws url)."""
    phone = start(procs, Phone(tmp_path, name, 5172 + 2 * i, "--auto-answer", "--tone", str(tone or 500 + 200 * i),
                               "--volume", "0.2"))
    svc = start(procs, Service(tmp_path, sip_port=6062 + 2 * i, name=f"service-{name}", web_api=f"127.0.0.1:{6166 + i}",
                               devices=devices or [f"desk=sip:{name}@127.0.0.1:{5172 + 2 * i}"], extra=extra, env=env))
    if approve:
        assert svc.cli("approve", approve)[0] == 0
    return phone, svc, f"ws://127.0.0.1:{6166 + i}/api"


def in_conference(conf, room):
    return sorted(p["uri"] for p in conf.conferences().get(room, {}).get("participants", []))


def test_three_visitors_hear_and_list_each_other_and_one_follows_a_link_without_a_gap(tmp_path, network):
    conf, procs = network
    names = ["ann", "bob", "cat"]
    visitors = [visitor_service(tmp_path, procs, n, i) for i, n in enumerate(names)]  # tones 500, 700, 900
    phones = {n: v[0] for n, v in zip(names, visitors)}
    sips = {n: f"sip:alice@127.0.0.1:{6062 + 2 * i}" for i, n in enumerate(names)}  # each service's identity
    # Someone already on the page Ann will go to, so her recording shows when she got there.
    dan = start(procs, Phone(tmp_path, "dan", 5180, "--tone", "1100", "--volume", "0.2",
                              "--from", "sip:dan@127.0.0.1:5180", "--dial", ALIEN))
    dan.wait_event("answered")
    driver = BrowserDriver("web.mjs", "visitors", f"{ORIGIN}/films/dune", "/films/alien", *[v[2] for v in visitors])
    try:
        lists = json.loads(driver.line("ready "))
        assert lists == [sorted(sips.values())] * 3, lists
        assert in_conference(conf, "web-films-dune") == sorted(sips.values())
        before = {n: p.clock_ms() for n, p in phones.items()}
        for p in phones.values():
            p.record_until(p.clock_ms() + 2500)
        driver.send("move")
        moved_at = int(driver.line("moved at ")) - phones["ann"].epoch_ms()
        dropped_ms = int(driver.line("dropped after ").split()[0])
        assert dropped_ms < 1000, f"the others' lists dropped Ann after {dropped_ms} ms"
        joined = panel(driver.line("joined next "))
        assert joined["viewers"] == sorted([sips["ann"], "sip:dan@127.0.0.1:5180"]) and joined["phone"] == ALIEN, joined
        after = json.loads(driver.line("after "))
        assert after[1] == after[2] == sorted([sips["bob"], sips["cat"]]), after
        wait_for(lambda: in_conference(conf, "web-films-alien") == sorted([sips["ann"], "sip:dan@127.0.0.1:5180"]),
                 what="Ann in the alien conference")
        phones["ann"].record_until(phones["ann"].clock_ms() + 1500)
        # One call to Ann's device, moved (Replaces), never hung up.
        ann = {e: len(phones["ann"].events_named(e)) for e in ("incoming", "reinvite", "terminated")}
        assert ann == {"incoming": 1, "reinvite": 0, "terminated": 0}, ann
        driver.finish()
    finally:
        driver.kill()
    stop_all(*phones.values())  # their recordings are complete once they quit
    tone = {n: 500 + 200 * i for i, n in enumerate(names)}
    for n in names:  # each heard the other two, not itself
        hears(phones[n].record, [tone[o] for o in names if o != n], tone[n], skip=before[n] / 1000 + 0.3, keep=2.0)
    gap, _ = switch_gap_ms(phones["ann"].record, moved_at, 700, 1100)
    print(f"move by following a link: others' lists dropped Ann after {dropped_ms} ms, gap in her audio {gap} ms")
    assert gap <= 20, f"gap {gap} ms in Ann's audio around the move"


def test_without_a_service_the_page_says_so_and_shows_the_sites_roster_and_the_phone_link(tmp_path, network):
    conf, procs = network
    dan = start(procs, Phone(tmp_path, "dan", 5180, "--from", "sip:dan@127.0.0.1:5180", "--dial", DUNE))
    dan.wait_event("answered")
    driver = BrowserDriver("web.mjs", "panel", f"{ORIGIN}/films/dune")
    try:
        p = panel(driver.line("panel "))
        assert p["state"] == "no-service" and "Your Confab service is not running (nothing answers at " \
            "ws://127.0.0.1:5066/api). Start it with `confab service`" in p["message"], p
        assert p["phone"] == DUNE, p
        driver.send("viewers sip:dan@127.0.0.1:5180")  # the site's roster, on its own WebSocket
        p = panel(driver.line("panel "))
        assert p["state"] == "no-service" and p["viewers"] == ["sip:dan@127.0.0.1:5180"], p
        driver.finish()
    finally:
        driver.kill()


def test_an_origin_not_approved_is_told_how_and_joins_once_approved(tmp_path, network):
    conf, procs = network
    phone, svc, ws = visitor_service(tmp_path, procs, "ann", 0, approve=False)
    driver = BrowserDriver("web.mjs", "panel", f"{ORIGIN}/films/dune", "--service", ws)
    try:
        p = panel(driver.line("panel "))
        assert p["state"] == "not-approved", p
        assert f"its origin {ORIGIN} is not approved" in p["message"] and f"`confab approve {ORIGIN}`" in p["message"] \
            and "`confab chooser`" in p["message"], p
        assert svc.cli("approve", ORIGIN)[0] == 0
        driver.send("wait joined")
        p = panel(driver.line("panel "))
        assert p["state"] == "joined" and p["viewers"] == ["sip:alice@127.0.0.1:6062"], p
        phone.wait_event("media")
        driver.finish()
    finally:
        driver.kill()


def test_the_local_network_access_permission_refused_is_said_and_granted_joins(tmp_path, network):
    """The site counts as a public address (Chromium's address-space override), so reaching
    the service on loopback needs the browser's Local Network Access permission, and the
    page must be a secure context: it is served over HTTPS (a test CA's certificate, which
    the browser trusts by its key) by a TLS proxy in front of the site, and its
    Content-Security-Policy's ws:// and http:// addresses of the service are loopback, which
    mixed content rules let an https page reach."""
    conf, procs = network
    chain, key, spki = tls_certificate(tmp_path)
    start(procs, TlsProxy(8443, SITE_PORT, chain, key))
    https = "https://127.0.0.1:8443"
    phone, svc, ws = visitor_service(tmp_path, procs, "ann", 0, approve=https)
    dan = start(procs, Phone(tmp_path, "dan", 5180, "--from", "sip:dan@127.0.0.1:5180", "--dial", DUNE))
    dan.wait_event("answered")
    public = ["--service", ws, "--public", "--spki", spki]
    driver = BrowserDriver("web.mjs", "panel", f"{https}/films/dune", *public, "--lna", "denied")
    try:
        assert json.loads(driver.line("context ")) == {"secure": True, "protocol": "https:"}
        p = panel(driver.line("panel "))
        assert p["state"] == "lna-denied" and "Your browser does not let this page reach your computer " \
            "(Local Network Access was refused)" in p["message"], p
        driver.send("viewers sip:dan@127.0.0.1:5180")  # the site's roster, on its wss:// WebSocket through the proxy
        assert panel(driver.line("panel "))["viewers"] == ["sip:dan@127.0.0.1:5180"]
        driver.finish()
    finally:
        driver.kill()
    assert not phone.events_named("incoming")
    driver = BrowserDriver("web.mjs", "panel", f"{https}/films/dune", *public, "--lna", "granted")
    try:
        assert json.loads(driver.line("context ")) == {"secure": True, "protocol": "https:"}
        p = panel(driver.line("panel "))
        assert p["state"] == "joined", p
        phone.wait_event("media")
        driver.finish()
    finally:
        driver.kill()
    # The same public site over plain http under a host name: not a secure context, so the
    # browser never lets it reach loopback, and the page says the site must use HTTPS.
    driver = BrowserDriver("web.mjs", "panel", f"{ORIGIN}/films/dune", "--service", ws, "--public", "--as-host", "films.test")
    try:
        assert json.loads(driver.line("context ")) == {"secure": False, "protocol": "http:"}
        p = panel(driver.line("panel "))
        assert p["state"] == "lna-denied" and "This page is not served over HTTPS" in p["message"], p
        driver.finish()
    finally:
        driver.kill()


def test_a_page_may_not_tunnel_sip_or_approve_origins_through_confab_js(tmp_path, network):
    """What the service keeps for local programs (raw SIP, approving origins) a page cannot do
    through confab.js: refused with 403 for a page whose origin is approved, and not even
    connected for one whose origin is not."""
    conf, procs = network
    phone, svc, ws = visitor_service(tmp_path, procs, "ann", 0, approve=False)
    origins = svc.runtime / "approved-origins"
    driver = BrowserDriver("web.mjs", "panel", f"{ORIGIN}/films/dune", "--service", ws)
    try:
        assert panel(driver.line("panel "))["state"] == "not-approved"
        driver.send("try")
        assert json.loads(driver.line("tried ")) == {"connect": "not-approved"}  # nothing sent
        assert svc.cli("approve", ORIGIN)[0] == 0
        driver.send("wait joined")
        assert panel(driver.line("panel "))["state"] == "joined"
        driver.send("try")
        tried = json.loads(driver.line("tried "))
        assert tried["connect"] == "ok" and tried["Tunnel"].startswith("403 ") \
            and tried["Approve"].startswith("403 "), tried
        driver.finish()
    finally:
        driver.kill()
    assert origins.read_text().split() == [ORIGIN]  # not http://evil.example
    rc, out, _ = svc.cli("api", "<State/>")
    assert rc == 0 and "evil.example" not in out and ORIGIN in out, out
    # The same raw request from a local program is sent: the page was refused for what it is.
    rc, out, _ = svc.cli("api", "<Tunnel><![CDATA[OPTIONS sip:127.0.0.1:5080 SIP/2.0\n\n]]></Tunnel>")
    assert rc == 0 and 'reason="sent"' in out, out


def test_a_declined_device_choice_is_said(tmp_path, network):
    conf, procs = network
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "zenity").write_text("#!/bin/sh\nexit 1\n")  # the user declines in the desktop dialog
    (fake / "zenity").chmod(0o755)
    phone, svc, ws = visitor_service(tmp_path, procs, "ann", 0,
                                     devices=["desk=sip:ann@127.0.0.1:5172", "other=sip:o@127.0.0.1:5178"],
                                     env={"DISPLAY": ":99", "PATH": f"{fake}:{os.environ['PATH']}"})
    driver = BrowserDriver("web.mjs", "panel", f"{ORIGIN}/films/dune", "--service", ws)
    try:
        p = panel(driver.line("panel "))
        assert p["state"] == "declined" and "You declined the device choice" in p["message"], p
        driver.finish()
    finally:
        driver.kill()
    assert not phone.events_named("incoming")


def test_of_two_tabs_the_visible_one_owns_the_voice_and_closing_both_ends_the_call(tmp_path, network):
    conf, procs = network
    phone, svc, ws = visitor_service(tmp_path, procs, "ann", 0, extra=["--leave-grace", "2"])
    me = "sip:alice@127.0.0.1:6062"
    driver = BrowserDriver("web.mjs", "tabs", f"{ORIGIN}/films/dune?confab-service={ws}", f"{ORIGIN}/films/alien")
    try:
        a = panel(driver.line("a-opened A: "))
        assert a["state"] == "joined" and in_conference(conf, "web-films-dune") == [me], a
        driver.send("next")
        b = panel(driver.line("b-front B: "))
        a = panel(driver.line("b-front A: "))
        assert b["state"] == "joined" and a["state"] == "elsewhere" and ALIEN in a["message"], (a, b)
        wait_for(lambda: in_conference(conf, "web-films-alien") == [me] and not in_conference(conf, "web-films-dune"),
                 what="the call in the visible tab's conference")
        driver.send("next")
        a = panel(driver.line("a-front A: "))
        b = panel(driver.line("a-front B: "))
        assert a["state"] == "joined" and b["state"] == "elsewhere", (a, b)
        wait_for(lambda: in_conference(conf, "web-films-dune") == [me] and not in_conference(conf, "web-films-alien"),
                 what="the call back in tab A's conference")
        # One call to the device all along, moved between the tabs' conferences.
        assert len(phone.events_named("incoming")) == 1 and not phone.events_named("terminated")
        driver.finish()  # the browser closes both tabs: the site is left
    finally:
        driver.kill()
    phone.wait_event("terminated", timeout=10)
    assert f"every page of {ORIGIN} closed 2 s ago (leave_grace_s)" in svc.output()
