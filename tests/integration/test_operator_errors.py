"""What an operator sees when a part cannot start or a command line is wrong (issue 14):
bind failures with the system's reason (SIP and HTTP/WebSocket listeners); a conference
server whose mixer does not answer says so at start and in the 503 its callers get;
`--log-level` refused with the valid values; mistyped commands and options get the
nearest valid one; `--version` with the git revision; the conference admin API's 401
(`WWW-Authenticate`), its error texts and DELETE /conferences/<id> with real phones; the
mixer's HTTP endpoint without a token warns."""
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from confab_testlib import CONFAB, ROOT, Conference, Mixer, Phone, Proc, start, stop_all, wait_for

SERVER = "127.0.0.1:5080"


def confab(*args, timeout=20):
    """(exit status, stdout, stderr) of `confab ARGS...`, which is expected to end by itself."""
    r = subprocess.run([CONFAB, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


class Held:
    """A socket bound (and for TCP listening) at host:port for the duration of a `with`."""

    def __init__(self, proto, host, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
        self.s.bind((host, port))
        if proto == "tcp":
            self.s.listen(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.s.close()


IN_USE = "address already in use: another process (or another part of this one) listens there; `ss -lntup` shows which"
NOT_HERE = "not an address of this host: listen on one that `ip -brief address` lists, or 0.0.0.0"


# ---- bind failures ----

def test_sip_bind_failures_say_why(tmp_path):
    # A user agent (the mixer) on a UDP port someone holds: the issue's own example.
    with Held("udp", "127.0.0.62", 5090):
        rc, out, err = confab("mixer", "--listen", "127.0.0.62:5090", "--rtp-ports", "20000-20099")
    assert rc == 1 and f"confab: cannot listen on udp:127.0.0.62:5090: {IN_USE}" in err, (rc, err)
    # Not an address of this host (TEST-NET-1).
    rc, out, err = confab("conference", "--listen", "udp:192.0.2.1:5080", "--mixer", "sip:127.0.0.1:5090")
    assert rc == 1 and f"confab: cannot listen on udp:192.0.2.1:5080: {NOT_HERE}" in err, (rc, err)
    # The proxy's transaction layer: its second address (TCP) taken, the first (UDP) free.
    with Held("tcp", "127.0.0.1", 5160):
        rc, out, err = confab("proxy", "--db", tmp_path / "proxy.db", "--listen", "udp:127.0.0.1:5160",
                              "--listen", "tcp:127.0.0.1:5160")
    assert rc != 0 and f"cannot listen on tcp:127.0.0.1:5160: {IN_USE}" in out + err, (rc, out, err)


def test_http_and_websocket_bind_failures_say_why():
    with Held("tcp", "127.0.0.1", 5191):
        rc, out, err = confab("mixer", "--listen", "127.0.0.1:5190", "--rtp-ports", "20000-20099",
                              "--http", "127.0.0.1:5191")
    assert rc == 1 and f"confab: cannot listen for HTTP on 127.0.0.1:5191: {IN_USE}" in err, (rc, err)
    # The game's page and WebSocket listener.
    rc, out, err = confab("game", "--listen", "192.0.2.1:8081")
    assert rc == 1 and f"confab: cannot listen for HTTP on 192.0.2.1:8081: {NOT_HERE}" in err, (rc, err)


def test_a_privileged_port_without_privilege_says_what_is_needed():
    """As an unprivileged user (setpriv to nobody), port 80: the reason names the rule and the way out."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and setpriv (util-linux) to run confab as nobody")
    as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", CONFAB]
    if subprocess.run([*as_nobody, "--version"], capture_output=True).returncode != 0:
        pytest.skip("nobody cannot run the build's confab binary")
    r = subprocess.run([*as_nobody, "mixer", "--listen", "127.0.0.1:80", "--rtp-ports", "20000-20099"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and ("confab: cannot listen on udp:127.0.0.1:80: permission denied: ports below 1024 "
                                  "need root or CAP_NET_BIND_SERVICE; use a port from 1024 up") in r.stderr, r.stderr


# ---- the conference server and its mixer ----

def test_a_conference_server_whose_mixer_does_not_answer_says_so(tmp_path):
    """No --mixer: the start log names the default; nothing answers there: a warning that
    names it and what to do, and a caller's 503 whose reason names it. Once a mixer runs
    there, calls go through."""
    procs = []
    try:
        conf = start(procs, Proc([CONFAB, "conference", "--listen", f"udp:{SERVER}"], tmp_path / "conference.log"))
        wait_for(lambda: "conference server listening" in conf.output() or not conf.alive(), what="start log")
        assert ("(mixer sip:127.0.0.1:5090, the default: set --mixer (mixer in [conference]) for another"
                in conf.output()), conf.output()
        warning = "the mixer at sip:127.0.0.1:5090 does not answer (OPTIONS: "
        wait_for(lambda: warning in conf.output(), timeout=40, what="the warning about the mixer",
                 state=conf.output)
        line = next(l for l in conf.output().splitlines() if warning in l)
        assert "every call to a conference will get 503 until it does. Start it (confab mixer --listen HOST:PORT) " \
               "or point --mixer (mixer in [conference]) at the one that runs" in line, line
        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2"))
        a.send(f"dial sip:room1@{SERVER}")
        ended = a.wait_event("terminated", timeout=40)
        assert ended["status"] == "503" and ended["reason"] == "Mixer sip:127.0.0.1:5090 Not Answering", ended
        assert "participant p1: the mixer at sip:127.0.0.1:5090 does not answer" in conf.output()
        start(procs, Mixer(tmp_path))
        a.send(f"dial sip:room1@{SERVER}")
        a.wait_event("answered")
    finally:
        stop_all(*reversed(procs))


def test_a_conference_server_whose_mixer_answers_says_that(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        wait_for(lambda: "the mixer at sip:127.0.0.1:5090 answers (OPTIONS: 200" in conf.output(),
                 what="the mixer check", state=conf.output)
        assert "does not answer" not in conf.output()
        assert "the default" not in conf.output()  # --mixer given
    finally:
        stop_all(*reversed(procs))


# ---- the command line ----

def test_an_invalid_log_level_is_refused_with_the_valid_ones():
    for args in (["--log-level", "verbose", "mixer"], ["mixer", "--log-level", "verbose"]):
        rc, out, err = confab(*args)
        assert rc != 0 and "--log-level: verbose not in {trace,debug,info,warn,error,off}" in err, (args, rc, err)
    rc, out, err = confab("--log-level", "debug", "mixer", "--help")
    assert rc == 0 and out.startswith("SIP-controlled N-1 audio mixer"), (rc, out, err)


def test_log_formats_json_lines_and_the_journal_under_systemd(tmp_path):
    """--log-format json: every line one JSON object; with stderr connected to the journal
    (JOURNAL_STREAM naming it, as systemd sets it) lines carry syslog priorities and no time."""
    rc, out, err = confab("--log-format", "yaml", "mixer")
    assert rc != 0 and "--log-format: yaml not in {text,json,journal}" in err, (rc, err)
    log = tmp_path / "mixer-json.log"
    mixer = Proc([CONFAB, "--log-format", "json", "mixer", "--listen", "127.0.0.1:5490", "--rtp-ports", "21100-21119",
                  "--http", "127.0.0.1:5491"], log)
    try:
        wait_for(lambda: "without a token" in mixer.output(), what="the mixer's warning")
    finally:
        stop_all(mixer)
    lines = [json.loads(line) for line in mixer.output().splitlines()]
    assert lines and all(set(l) == {"time", "part", "level", "message"} and l["part"] == "mixer" for l in lines), lines
    assert any(l["level"] == "warning" and "--http-token" in l["message"] for l in lines), lines
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", l["time"]) for l in lines), lines

    journal = tmp_path / "mixer-journal.log"
    with open(journal, "wb") as f:
        st = os.fstat(f.fileno())
        p = subprocess.Popen([CONFAB, "mixer", "--listen", "127.0.0.1:5490", "--rtp-ports", "21100-21119", "--http",
                              "127.0.0.1:5491"], stdout=f, stderr=f,
                             env=dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}"))
        try:
            wait_for(lambda: "without a token" in journal.read_text(), what="the mixer's warning")
        finally:
            p.terminate()
            p.wait(10)
    text = journal.read_text().splitlines()
    assert all(re.match(r"<[2-7]>mixer: ", l) for l in text), text
    assert any(l.startswith("<4>mixer: mixer HTTP endpoint") for l in text), text


def test_mistyped_commands_and_options_get_a_suggestion():
    rc, out, err = confab("conferance")
    assert rc != 0 and err.startswith("unknown command 'conferance': did you mean 'conference'?\n"), (rc, err)
    rc, out, err = confab("banana")
    assert rc != 0 and err.startswith("unknown command 'banana' (`confab --help` lists the commands)"), (rc, err)
    # Unknown options: each with the nearest valid one, in the order given.
    rc, out, err = confab("conference", "--lisen", "udp:127.0.0.1:5080", "--mixr", "sip:127.0.0.1:5090",
                          "--max-particpants", "3", "--log-levl", "debug")
    assert rc != 0
    assert err.splitlines() == [
        "unknown option '--lisen' for confab conference: did you mean '--listen'?",
        "unknown option '--mixr' for confab conference: did you mean '--mixer'?",
        "unknown option '--max-particpants' for confab conference: did you mean '--max-participants'?",
        "unknown option '--log-levl' for confab conference: did you mean '--log-level'?",
        "Run `confab conference --help` for more information.",
    ], err


def test_a_commands_help_is_its_own():
    rc, out, err = confab("game", "--help")
    assert rc == 0, (rc, err)
    assert out.startswith("game server: a multi-player world whose zones are conferences\n"), out
    assert "--world" in out and "--conference-host" in out, out
    assert "Confab: SIP as a system service" not in out and "Subcommands:" not in out, out  # not the top-level help


def test_version_names_the_git_revision():
    rc, out, err = confab("--version")
    assert rc == 0, (rc, err)
    m = re.fullmatch(r"confab (\d+\.\d+\.\d+) \(git (\S+)\)\n", out)
    assert m, out
    project = (ROOT / "CMakeLists.txt").read_text()
    assert f"project(confab VERSION {m[1]} " in project
    revision = m[2]
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        # `git describe --always --dirty` at build time: [TAG-N-g]HASH[-dirty], a commit of this checkout.
        commit = re.sub(r"-dirty$", "", revision).rsplit("-g", 1)[-1]
        assert re.fullmatch(r"[0-9a-f]{7,40}", commit), revision
        assert subprocess.run([git, "-C", ROOT, "cat-file", "-e", f"{commit}^{{commit}}"]).returncode == 0, revision
    else:
        assert revision == "unknown", revision


# ---- the conference admin API ----

def http(method, url, body=None, headers=None):
    """(status, headers, parsed JSON body) of an HTTP request."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"{}")


def test_admin_api_401_errors_and_ending_a_conference(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        base = f"http://127.0.0.1:{conf.admin_port}"
        # 401: says which scheme to use (RFC 6750), and why this request failed.
        status, headers, body = http("GET", f"{base}/conferences")
        assert (status, headers["WWW-Authenticate"], body) == (401, 'Bearer realm="confab"',
                                                               {"error": "missing bearer token"})
        status, headers, body = http("GET", f"{base}/conferences", headers={"Authorization": "Bearer wrong"})
        assert (status, headers["WWW-Authenticate"], body) == (
            401, 'Bearer realm="confab", error="invalid_token"', {"error": "wrong bearer token"})

        a = start(procs, Phone(tmp_path, "a", 5172, "--tone", "500", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        b = start(procs, Phone(tmp_path, "b", 5174, "--tone", "900", "--volume", "0.2", "--dial", f"sip:room1@{SERVER}"))
        c = start(procs, Phone(tmp_path, "c", 5176, "--tone", "1300", "--volume", "0.2", "--dial", f"sip:room2@{SERVER}"))
        wait_for(lambda: {k: len(v["participants"]) for k, v in conf.conferences().items()} == {"room1": 2, "room2": 1},
                 what="three participants")

        # Error texts: one style (lower-case sentences), each saying what was wrong.
        pid = conf.conferences()["room1"]["participants"][0]["id"]
        for method, path, body, expect in (
                ("POST", "/participants/p999/move", {"to": "x"}, (404, "no such participant")),
                ("POST", f"/participants/{pid}/move", {"to": "bad id!"},
                 (400, "bad conference id: 1 to 64 letters, digits and - _ . ~ +")),
                ("POST", f"/participants/{pid}/move", {}, (400, 'move needs "to": a conference id')),
                ("POST", f"/participants/{pid}/move", "not json", (400, "body must be a JSON object")),
                ("POST", f"/participants/{pid}/fly", {}, (404, "unknown action (move, mute, listen)")),
                ("POST", "/participants/p999/mute", {"muted": True}, (404, "no such participant")),
                ("DELETE", "/participants/p999", None, (404, "no such participant")),
                ("GET", "/conferences/nosuch", None, (404, "no such conference")),
                ("DELETE", "/conferences/nosuch", None, (404, "no such conference")),
                ("GET", "/nope", None, (404, "not found"))):
            status, _, answer = http(method, base + path, body, {"Authorization": f"Bearer {conf.token}"})
            assert (status, answer.get("error")) == expect, (method, path)

        # End room1: both of its phones get a BYE, room1 is gone, room2 goes on.
        status, _, answer = http("DELETE", f"{base}/conferences/room1", headers={"Authorization": f"Bearer {conf.token}"})
        assert (status, answer) == (200, {"status": "ok"})
        for phone in (a, b):  # they did not hang up: the server did
            phone.wait_event("terminated")
        wait_for(lambda: set(conf.conferences()) == {"room2"}, what="room1 gone from GET /conferences",
                 state=conf.conferences)
        assert http("GET", f"{base}/conferences/room1", headers={"Authorization": f"Bearer {conf.token}"})[0] == 404
        assert not c.events_named("terminated") and len(conf.conferences()["room2"]["participants"]) == 1
        assert "conference room1: ended by the admin API, hanging up 2 participant(s)" in conf.output()
    finally:
        stop_all(*reversed(procs))


# ---- the mixer's HTTP endpoint ----

def test_the_mixer_warns_when_its_http_endpoint_has_no_token(tmp_path):
    open_mixer = Mixer(tmp_path)
    try:
        wait_for(lambda: "mixer listening" in open_mixer.output(), what="start log")
        assert ("mixer HTTP endpoint on 127.0.0.1:5091 without a token: anyone who can reach it can read every mix "
                "and leg (conference ids, participants' RTP addresses, packet counts) and the metrics; set "
                '--http-token-file FILE to require "Authorization: Bearer <its first line>"') in open_mixer.output(), \
            open_mixer.output()
    finally:
        open_mixer.stop()
    token = tmp_path / "http-token"
    token.write_text("s3cret\n")
    token.chmod(0o600)
    closed = Mixer(tmp_path, extra=["--http-token-file", token], name="mixer-token")
    try:
        wait_for(lambda: "mixer listening" in closed.output(), what="start log")
        assert "without a token" not in closed.output(), closed.output()
        status, headers, _ = http("GET", "http://127.0.0.1:5091/mixes")
        assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="confab"'
    finally:
        closed.stop()
