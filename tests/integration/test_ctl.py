"""`confab ctl` against each running part (issue 14): the proxy's registrations, kick and
reload (also by SIGHUP), the conference server's conferences, kick and end with real phones,
its reload (also by SIGHUP: a new participant limit refuses the next caller, then lets it
in), the mixer's legs, the service's calls and log level (its Unix socket only, not TCP);
the log level changed at run time; what a person sees when nothing runs, a command is
unknown or an argument is wrong."""
import json
import os
import signal
import stat
import subprocess

from confab_testlib import CONFAB, ApiClient, Conference, Mixer, Phone, Proxy, Service, start, stop_all, wait_for

DOMAIN = "ctl.example.com"


def ctl(*args, timeout=20):
    """(exit status, stdout, stderr) of `confab ctl ARGS...`."""
    r = subprocess.run([CONFAB, "ctl", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def ctl_json(*args):
    rc, out, err = ctl(*args)
    assert rc == 0, (args, rc, out, err)
    return json.loads(out)


def test_proxy_registrations_kick_log_level_and_reload(tmp_path):
    sock = tmp_path / "run" / "proxy.sock"
    config = tmp_path / "proxy.toml"
    config.write_text(f'[proxy]\ndomains = ["{DOMAIN}"]\n[proxy.registrar]\nmax_expires = 3600\n')
    procs = []
    try:
        proxy = start(procs, Proxy(tmp_path, port=5460, extra=["--config", config, "--control", sock]))
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        a = start(procs, Phone(tmp_path, "a", 5472, "--register", f"sip:alice@{DOMAIN}", "--proxy",
                               "sip:127.0.0.1:5460"))
        a.wait_event("registration", status="200")
        regs = ctl_json("proxy", "--socket", sock, "registrations")
        assert [r["aor"] for r in regs] == [f"alice@{DOMAIN}"] and "127.0.0.1:5472" in regs[0]["contact"], regs
        assert 0 < regs[0]["expires"] <= 3600
        assert ctl_json("proxy", "--socket", sock, "stats")["registrations"] == 1

        assert ctl_json("proxy", "--socket", sock, "kick", f"sip:alice@{DOMAIN}") == {"removed": 1}
        assert ctl_json("proxy", "--socket", sock, "registrations") == []
        assert "binding(s) of alice@ctl.example.com removed (confab ctl)" in proxy.output()
        rc, out, err = ctl("proxy", "--socket", sock, "kick", "not an aor")
        assert rc == 1 and "is not an address-of-record" in err, err
        rc, out, err = ctl("proxy", "--socket", sock, "kik", "x")
        assert rc == 1 and "no command 'kik' in proxy (`confab ctl proxy help` lists them)" in err, err
        commands = ctl_json("proxy", "--socket", sock, "help")
        assert {"registrations", "kick", "stats", "reload", "log-level", "help"} <= set(commands), commands

        # The log level at run time: debug lines appear only after the change.
        assert ctl("proxy", "--socket", sock, "log-level")[1].strip() == "info"
        assert ctl("proxy", "--socket", sock, "log-level", "debug")[1].strip() == "debug"
        wait_for(lambda: "log level set to debug (confab ctl)" in proxy.output(), what="the change logged")
        rc, out, err = ctl("proxy", "--socket", sock, "log-level", "loud")
        assert rc == 1 and "'loud' is not a log level" in err

        # reload: routes and registrar limits apply at once; auth settings need a restart.
        config.write_text(f'[proxy]\ndomains = ["{DOMAIN}"]\n[proxy.auth]\nnonce_ttl = 60\n'
                          f'[proxy.registrar]\nmax_expires = 120\ndefault_expires = 120\n'
                          f'[proxy.routes]\n"conf.{DOMAIN}" = "127.0.0.1:5480"\n')
        said = ctl("proxy", "--socket", sock, "reload")[1].strip()
        assert said == "applied: routes, registrar limits; changed but needs a restart: auth", said
        a.send("quit")
        b = start(procs, Phone(tmp_path, "b", 5474, "--register", f"sip:bob@{DOMAIN}", "--proxy", "sip:127.0.0.1:5460"))
        b.wait_event("registration", status="200")
        bob = ctl_json("proxy", "--socket", sock, "registrations", f"bob@{DOMAIN}")
        assert len(bob) == 1 and bob[0]["expires"] <= 120, bob  # the new registrar limit
        # A broken file changes nothing; SIGHUP does what reload does.
        config.write_text("[proxy\n")
        proxy.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: " in proxy.output() and "nothing changed" in proxy.output(), what="reload on SIGHUP")
        assert proxy.alive()
    finally:
        stop_all(*reversed(procs))
    assert not sock.exists(), "the control socket outlived the proxy"


def test_conference_and_mixer_lists_kick_and_end(tmp_path):
    csock, msock = tmp_path / "conference.sock", tmp_path / "mixer.sock"
    procs = []
    try:
        start(procs, Mixer(tmp_path, port=5490, http_port=5491, rtp="21200-21299", extra=["--control", msock]))
        start(procs, Conference(tmp_path, port=5480, admin_port=5481, mixer="sip:127.0.0.1:5490",
                                extra=["--control", csock]))
        phones = [start(procs, Phone(tmp_path, f"p{i}", 5482 + 2 * i, "--tone", str(500 + 200 * i),
                                     "--dial", f"sip:{room}@127.0.0.1:5480"))
                  for i, room in enumerate(["room1", "room1", "room2"])]
        for p in phones:
            p.wait_event("answered")
        confs = {c["id"]: c for c in ctl_json("conference", "--socket", csock, "conferences")["conferences"]}
        assert {k: len(v["participants"]) for k, v in confs.items()} == {"room1": 2, "room2": 1}, confs
        legs = {m["mix"]: len(m["legs"]) for m in ctl_json("mixer", "--socket", msock, "mixes")["mixes"]}
        assert legs == {"room1": 2, "room2": 1}, legs
        assert ctl_json("mixer", "--socket", msock, "stats")["legs"] == 3

        victim = confs["room1"]["participants"][0]["id"]
        assert ctl("conference", "--socket", csock, "kick", victim)[0] == 0
        wait_for(lambda: any(e.get("event") == "terminated" for p in phones[:2] for e in p.events()),
                 what="the kicked phone's call ended")
        assert ctl("conference", "--socket", csock, "end", "room2")[0] == 0
        phones[2].wait_event("terminated")
        wait_for(lambda: set(c["id"] for c in ctl_json("conference", "--socket", csock, "conferences")["conferences"])
                 == {"room1"}, what="room2 gone, room1 left with one")
        rc, out, err = ctl("conference", "--socket", csock, "end", "nosuch")
        assert rc == 1 and "no conference 'nosuch'" in err, err
        rc, out, err = ctl("conference", "--socket", csock, "kick")
        assert rc == 1 and "usage: kick PARTICIPANT" in err, err
    finally:
        stop_all(*reversed(procs))


def test_conference_reload_applies_limits_and_names_what_needs_a_restart(tmp_path):
    csock, config = tmp_path / "conference.sock", tmp_path / "conference.toml"
    config.write_text("[conference]\nmax_participants = 5\n")
    procs = []
    try:
        start(procs, Mixer(tmp_path, port=5490, http_port=5491, rtp="21200-21299"))
        conference = start(procs, Conference(tmp_path, port=5480, admin_port=5481, mixer="sip:127.0.0.1:5490",
                                             extra=["--config", config, "--control", csock]))
        first = start(procs, Phone(tmp_path, "first", 5482, "--dial", "sip:room1@127.0.0.1:5480"))
        first.wait_event("answered")
        assert "reload" in ctl_json("conference", "--socket", csock, "help")

        # One a conference now; a new transaction timeout only with a restart.
        config.write_text("[conference]\nmax_participants = 1\ntransaction_timeout_ms = 8000\n")
        said = ctl("conference", "--socket", csock, "reload")[1].strip()
        assert said == "applied: max_participants; changed but needs a restart: transaction_timeout_ms", said
        second = start(procs, Phone(tmp_path, "second", 5484, "--dial", "sip:room1@127.0.0.1:5480"))
        second.wait_event("terminated", status=486)
        assert len(conference.conferences()["room1"]["participants"]) == 1

        # A broken file changes nothing; SIGHUP does what reload does.
        config.write_text("[conference]\nmax_participants = \n")
        conference.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "nothing changed" in conference.output(), what="the broken file refused on SIGHUP")
        config.write_text("[conference]\nmax_participants = 2\ntransaction_timeout_ms = 8000\n")
        conference.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: applied: max_participants;" in conference.output().split("nothing changed")[-1],
                 what="the new limit applied on SIGHUP")
        second.send("dial sip:room1@127.0.0.1:5480")
        second.wait_event("answered")
        assert conference.alive()
    finally:
        stop_all(*reversed(procs))


def test_service_calls_log_level_and_nothing_running(tmp_path):
    svc = Service(tmp_path, sip_port=5462, api_tcp="127.0.0.1:5463")
    try:
        rc, out, err = ctl("service", "--socket", svc.socket, "calls")
        assert rc == 0 and out.startswith("<Result") and "<Calls" in out, (out, err)
        rc, out, err = ctl("service", "--socket", svc.socket, "frob")
        assert rc == 2 and "no command 'frob' for the service" in err, err

        # The log level at run time, through the API's Unix socket.
        rc, out, err = ctl("service", "--socket", svc.socket, "log-level")
        assert rc == 0 and 'level="info"' in out, (out, err)
        rc, out, err = ctl("service", "--socket", svc.socket, "log-level", "debug")
        assert rc == 0 and 'level="debug"' in out, (out, err)
        wait_for(lambda: "log level set to debug (API <LogLevel>)" in svc.output(), what="the change logged")
        rc, out, err = ctl("service", "--socket", svc.socket, "log-level", "loud")
        assert rc == 1 and "is not a log level (trace, debug, info, warn, error, off)" in out, (out, err)
        # Not for TCP clients, even authenticated ones (web pages: CommandTable::web_may_call).
        tcp = ApiClient(tcp_port=5463)
        assert tcp.call(f'<Auth token="{(svc.runtime / "confab" / "token").read_text().strip()}"/>').get("code") == "200"
        refused = tcp.call('<LogLevel level="trace"/>')
        assert refused.get("code") == "403" and "only for the service's Unix socket" in refused.get("reason"), refused
        assert 'level="debug"' in ctl("service", "--socket", svc.socket, "log-level")[1]
    finally:
        svc.stop()
    rc, out, err = ctl("mixer", "--socket", tmp_path / "none.sock", "mixes")
    assert rc == 1 and f"nothing answers on {tmp_path / 'none.sock'}" in err and "--control" in err, err
    rc, out, err = ctl("router", "help")
    assert rc != 0 and "router not in {proxy,conference,mixer,service}" in err, err
