"""Prometheus /metrics of the proxy, the conference server, the mixer and the client service
(issue 14): each page passes Prometheus' own linter (promtool check metrics) and its strict
text-format parser, every metric is documented in docs/deployment.md, and the values follow
what happened: registrations and refused logins at the proxy, requests by method and status,
conferences, participants and NOTIFYs at the conference server, API clients, commands and
calls by state at the service."""
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from confab_testlib import (CONFAB, ApiClient, Conference, Mixer, Phone, Proxy, Service, poll, start, stop_all,
                            wait_for)

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = ROOT / "build" / "tools" / "usr" / "bin" / "promtool"  # scripts/setup unpacks it
DOMAIN = "metrics.example.com"
PROXY_PORT, PROXY_METRICS = 5360, 5361
CONF_PORT, CONF_ADMIN = 5380, 5381
MIXER_PORT, MIXER_HTTP = 5390, 5391


def scrape(port, token=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers or {})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
        return r.read().decode()


def checked(text):
    """Samples of a page that promtool and the Prometheus client's parser both accept:
    {(name, frozenset(labels)): value}."""
    assert PROMTOOL.exists(), f"{PROMTOOL} missing: scripts/setup unpacks it from Debian's prometheus package"
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, f"promtool: {lint.stdout}{lint.stderr}\n{text}"
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def documented_names():
    return set(re.findall(r"`(confab_[a-z_]+)[`{]", (ROOT / "docs" / "deployment.md").read_text()))


def assert_documented(text):
    names = set(re.findall(r"^# TYPE (\S+)", text, re.M))
    missing = names - documented_names()
    assert not missing, f"metrics not documented in docs/deployment.md: {sorted(missing)}"


def adduser(db, user, password):
    r = subprocess.run([CONFAB, "proxy", "--db", str(db), "adduser", "--realm", DOMAIN, user], input=password + "\n",
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr


def test_proxy_conference_and_mixer_metrics_follow_registrations_calls_and_rosters(tmp_path):
    procs = []
    db = tmp_path / "proxy.db"
    adduser(db, "alice", "right")
    password = tmp_path / "alice.pw"
    password.write_text("right\n")
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("wrong\n")
    via = ["--proxy", f"sip:127.0.0.1:{PROXY_PORT}"]
    try:
        proxy = start(procs, Proxy(tmp_path, port=PROXY_PORT, db=db, extra=[
            "--domain", DOMAIN, "--auth-register", "--route", f"conf.{DOMAIN}=127.0.0.1:{CONF_PORT}",
            "--metrics", f"127.0.0.1:{PROXY_METRICS}"]))
        start(procs, Mixer(tmp_path, port=MIXER_PORT, http_port=MIXER_HTTP, rtp="21000-21099"))
        conf = start(procs, Conference(tmp_path, port=CONF_PORT, admin_port=CONF_ADMIN,
                                       mixer=f"sip:127.0.0.1:{MIXER_PORT}", extra=["--domain", f"conf.{DOMAIN}"]))
        before = checked(scrape(PROXY_METRICS))
        assert value(before, "confab_proxy_registrations_total") == 0
        assert value(before, "confab_proxy_registered_contacts") == 0

        # A refused login, counted by its cause; then a good one.
        bad = Phone(tmp_path, "bad", 5370, "--register", f"sip:alice@{DOMAIN}", "--user", "alice",
                    "--password-file", wrong, *via)
        bad.p.wait(15)
        a = start(procs, Phone(tmp_path, "a", 5372, "--register", f"sip:alice@{DOMAIN}", "--user", "alice",
                               "--password-file", password, "--tone", "450", *via))
        a.wait_event("registration", status="200")
        page = scrape(PROXY_METRICS)
        s = checked(page)
        assert value(s, "confab_proxy_auth_failures_total", cause="wrong_password") >= 1, page
        assert value(s, "confab_proxy_auth_failures_total", cause="unknown_user") == 0, page
        assert value(s, "confab_proxy_registrations_total") == 1, page
        assert value(s, "confab_proxy_registered_contacts") == 1, page
        assert value(s, "confab_sip_requests_received_total", method="REGISTER") >= 3, page
        assert value(s, "confab_sip_responses_sent_total", method="REGISTER", status="401") >= 2, page
        assert value(s, "confab_sip_responses_sent_total", method="REGISTER", status="200") == 1, page
        assert_documented(page)

        # Two participants and a roster watcher in one conference.
        room = f"sip:room1@conf.{DOMAIN}"
        b = start(procs, Phone(tmp_path, "b", 5374, "--from", f"sip:bob@{DOMAIN}", "--tone", "650", *via))
        watcher = start(procs, Phone(tmp_path, "w", 5378, "--from", f"sip:watch@{DOMAIN}", *via))
        a.send(f"dial {room}")
        a.wait_event("answered")
        b.send(f"dial {room}")
        b.wait_event("answered")
        watcher.send(f"subscribe {room}")
        wait_for(lambda: value(checked(scrape(CONF_ADMIN, conf.token)), "confab_conference_subscriptions") == 1,
                 what="the watcher's subscription in the metrics")
        page = scrape(CONF_ADMIN, conf.token)
        s = checked(page)
        assert value(s, "confab_conference_conferences") == 1, page
        assert value(s, "confab_conference_participants", state="connected") == 2, page
        assert value(s, "confab_conference_participants_joined_total") == 2, page
        assert value(s, "confab_conference_notifies_total") >= 1, page
        assert value(s, "confab_sip_requests_received_total", method="INVITE") == 2, page
        assert value(s, "confab_sip_requests_received_total", method="SUBSCRIBE") >= 1, page
        assert value(s, "confab_sip_responses_received_total", method="INVITE", status="200") == 2, page  # mixer legs
        assert_documented(page)
        proxied = checked(scrape(PROXY_METRICS))
        assert value(proxied, "confab_sip_requests_received_total", method="INVITE") == 2
        assert value(proxied, "confab_sip_responses_sent_total", method="INVITE", status="200") == 2
        assert value(proxied, "confab_proxy_branches_forwarded_total") >= 3  # 2 INVITEs, 1 SUBSCRIBE
        mixer_page = scrape(MIXER_HTTP)
        m = checked(mixer_page)
        assert value(m, "confab_mixer_legs") == 2 and value(m, "confab_mixer_mixes") == 1, mixer_page
        assert value(m, "confab_sip_requests_received_total", method="INVITE") == 2, mixer_page
        assert_documented(mixer_page)

        # The admin token guards the metrics as the rest of the admin API.
        try:
            scrape(CONF_ADMIN)
            raise AssertionError("metrics served without the admin token")
        except urllib.error.HTTPError as e:
            assert e.code == 401

        a.send("hangup")
        b.send("hangup")
        s = poll(lambda: checked(scrape(CONF_ADMIN, conf.token)),
                 lambda s: value(s, "confab_conference_conferences") == 0)
        assert value(s, "confab_conference_participants", state="connected") == 0
        assert value(s, "confab_conference_participants_left_total") == 2
        assert value(s, "confab_conference_conferences_created_total") == 1
        assert value(s, "confab_sip_requests_received_total", method="BYE") == 2
    finally:
        stop_all(*reversed(procs))


def test_service_metrics_count_api_clients_commands_and_calls_and_refuse_web_pages(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path, port=MIXER_PORT, http_port=MIXER_HTTP, rtp="21000-21099"))
        start(procs, Conference(tmp_path, port=CONF_PORT, admin_port=CONF_ADMIN, mixer=f"sip:127.0.0.1:{MIXER_PORT}"))
        start(procs, Phone(tmp_path, "desk", 5376, "--auto-answer"))
        svc = start(procs, Service(tmp_path, sip_port=5362, web_api="127.0.0.1:5366",
                                   devices=["desk=sip:desk@127.0.0.1:5376"], default_device="desk"))
        s = checked(scrape(5366))
        assert value(s, "confab_service_api_clients", transport="unix") == 0

        c = svc.client()
        assert c.call("<Calls/>").get("status") == "ok"
        assert c.call("<Frobnicate/>").get("code") == "501"
        r = c.call(f'<Join id="sip:room1@127.0.0.1:{CONF_PORT}"/>')
        assert r.get("status") == "ok", r.attrib
        page = scrape(5366)
        s = checked(page)
        assert value(s, "confab_service_api_clients", transport="unix") == 1, page
        assert value(s, "confab_service_api_messages_total", command="Calls") == 1, page
        assert value(s, "confab_service_api_messages_total", command="Join") == 1, page
        assert value(s, "confab_service_api_messages_total", command="unknown") == 1, page
        assert value(s, "confab_service_calls_total", direction="outgoing") == 1, page
        assert value(s, "confab_service_calls", state="active") == 1, page
        assert value(s, "confab_sip_responses_received_total", method="INVITE", status="200") >= 2, page
        assert_documented(page)

        # A web page may not read them (any Origin header), nor a foreign Host (DNS rebinding).
        for headers in ({"Origin": "https://films.example"}, {"Host": "evil.example:5366"}):
            try:
                scrape(5366, headers=headers)
                raise AssertionError(f"metrics served to {headers}")
            except urllib.error.HTTPError as e:
                assert e.code == 403

        assert c.call("<Hangup/>").get("status") == "ok"
        c.close()
        s = poll(lambda: checked(scrape(5366)),
                 lambda s: value(s, "confab_service_calls", state="active") == 0
                 and value(s, "confab_service_api_clients", transport="unix") == 0)
        assert value(s, "confab_service_calls", state="active") == 0
        assert value(s, "confab_service_api_clients", transport="unix") == 0
    finally:
        stop_all(*reversed(procs))
