"""What an operator sees when digest authentication goes wrong (issue 14): the proxy's log
names the cause of each refused login and what to run, counts them in its stop summary and
warns at start when its realm has no users; `adduser` stores users under the realm the proxy
challenges with and takes passwords from a file, standard input or a prompt without echo; the
phone says why it is not registered in plain words and exits with status 3; databases and
token files are private."""
import hashlib
import os
import pty
import re
import select
import sqlite3
import stat
import subprocess
import time

from confab_testlib import CONFAB, Phone, Proxy, Service, wait_for

PROXY_PORT = 5160
NOT_REGISTERED = 3  # `confab phone --register` could not register (docs/deployment.md)


def adduser(db, *args, stdin=None):
    """`confab proxy --db DB ... adduser ...`; (exit code, stdout, stderr)."""
    r = subprocess.run([CONFAB, "proxy", "--db", str(db), *args], input=stdin, capture_output=True, text=True,
                       timeout=20)
    return r.returncode, r.stdout, r.stderr


def stored_ha1(db, user, realm):
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT ha1_md5 FROM users WHERE username = ? AND realm = ?", (user, realm)).fetchone()
    return row[0] if row else None


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def phone(tmp_path, name, port, user, password, domain="example.com", password_file=True):
    args = ["--register", f"sip:{user}@{domain}", "--proxy", f"sip:127.0.0.1:{PROXY_PORT}"]
    if user and password is not None:
        args += ["--user", user]
        if password_file:
            path = tmp_path / f"{name}.pw"
            path.write_text(password + "\n")
            path.chmod(0o600)
            args += ["--password-file", path]
        else:
            args += ["--password", password]
    return Phone(tmp_path, name, port, *args)


def refused(p):
    """The phone's registration line and its exit status once it gave up."""
    line = p.wait_event("registration")
    p.p.wait(10)
    return line, p.p.returncode


def wait_log(proc, pattern, what):
    found = []

    def seen():
        found[:] = re.findall(pattern, proc.output())
        return bool(found)
    wait_for(seen, what=what)
    return found[-1]


def test_adduser_defaults_to_the_realm_the_proxy_challenges_with(tmp_path):
    db = tmp_path / "proxy.db"
    os.umask(0o022)
    proxy = Proxy(tmp_path, port=PROXY_PORT, db=db, extra=["--domain", "example.com", "--auth-register"])
    try:
        warning = wait_log(proxy, r"warning (digest authentication is on but realm 'example\.com' has no users.*)",
                           "the warning that the realm has no users")
        assert f"add users with: confab proxy --db {db} adduser --realm example.com NAME" in warning
        # The operator forgets --domain: the user still lands in the realm the proxy challenges with.
        rc, out, err = adduser(db, "adduser", "alice", stdin="pw-alice\n")
        assert rc == 0, err
        assert "user alice (realm example.com: the realm the proxy challenged with at its last start" in out
        assert stored_ha1(db, "alice", "example.com") == md5("alice:example.com:pw-alice")
        alice = phone(tmp_path, "alice", 5182, "alice", "pw-alice")
        assert alice.wait_event("registration")["status"] == "200"
        alice.quit()
    finally:
        proxy.stop()
    # The database holds password hashes: its owner alone reads it (and its WAL).
    for f in (db, tmp_path / "proxy.db-wal"):
        if f.exists():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert "authentication failures: none" in proxy.output()


def test_each_refused_login_says_why_and_is_counted(tmp_path):
    db = tmp_path / "proxy.db"
    # The mistake of the issue: alice added without --domain, under the default realm.
    rc, out, err = adduser(db, "adduser", "--realm", "127.0.0.1", "alice", stdin="pw-alice\n")
    assert rc == 0, err
    proxy = Proxy(tmp_path, port=PROXY_PORT, db=db, extra=["--domain", "example.com", "--auth-register"])
    phones = []
    try:
        wait_log(proxy, r"realm 'example\.com' has no users .*\(users exist under realm '127\.0\.0\.1' only\)",
                 "the start warning naming the realm the users are under")
        rc, out, err = adduser(db, "adduser", "--realm", "example.com", "bob", stdin="pw-bob\n")
        assert rc == 0, err

        alice = phone(tmp_path, "alice", 5182, "alice", "pw-alice")
        phones.append(alice)
        line, status = refused(alice)
        assert (line["status"], line["reason"]) == ("401", "authentication failed: wrong password or realm"), line
        assert status == NOT_REGISTERED
        hint = wait_log(proxy, r"REGISTER for sip:alice@example\.com from \S+: authentication failed for user 'alice': "
                               r"realm mismatch: the user exists under realm '127\.0\.0\.1' but the proxy challenges "
                               r"with realm 'example\.com'; add the user for this realm with: (confab proxy .*?)$",
                        "the realm mismatch in the proxy's log")
        assert hint == f"confab proxy --db {db} adduser --realm example.com alice"

        bob = phone(tmp_path, "bob", 5184, "bob", "not-his-password")
        phones.append(bob)
        line, status = refused(bob)
        assert line["reason"] == "authentication failed: wrong password or realm" and status == NOT_REGISTERED
        wait_log(proxy, r"authentication failed for user 'bob': wrong password \(realm 'example\.com'\)",
                 "the wrong password in the proxy's log")

        carol = phone(tmp_path, "carol", 5186, "carol", "pw-carol")
        phones.append(carol)
        line, status = refused(carol)
        assert status == NOT_REGISTERED
        wait_log(proxy, r"authentication failed for user 'carol': unknown user: no user 'carol' in ",
                 "the unknown user in the proxy's log")

        nobody = phone(tmp_path, "nobody", 5188, "dave", None)  # no --user/--password at all
        phones.append(nobody)
        line, status = refused(nobody)
        assert (line["status"], line["reason"]) == (
            "401", "authentication required: give --user and --password-file (or --password)"), line
        assert status == NOT_REGISTERED

        # The hint, run as printed (the password on standard input), fixes alice's login.
        r = subprocess.run([CONFAB, *hint.split()[1:]], input="pw-alice\n", capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        again = phone(tmp_path, "alice2", 5190, "alice", "pw-alice")
        phones.append(again)
        assert again.wait_event("registration")["status"] == "200"
    finally:
        for p in phones:
            p.quit()
        proxy.stop()
    summary = re.search(r"proxy stopped: .* (\d+) rejected; authentication failures: (.*)", proxy.output())
    assert summary, proxy.output()[-2000:]
    counts = {cause: int(n) for n, cause in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", summary.group(2))}
    assert set(counts) == {"unknown user", "realm mismatch", "wrong password"}, summary.group(0)
    for cause in counts:  # each refusal logged once and counted once
        logged = len(re.findall(rf"authentication failed for user '\w+': {cause}", proxy.output()))
        assert counts[cause] == logged >= 1, (cause, summary.group(0))
    assert int(summary.group(1)) >= sum(counts.values())


def test_passwords_from_a_file_stdin_or_a_prompt_and_a_warning_for_the_command_line(tmp_path):
    db = tmp_path / "users.db"
    pw_file = tmp_path / "pw"
    pw_file.write_text("from-file\n")
    pw_file.chmod(0o600)
    rc, out, err = adduser(db, "--realm", "r", "adduser", "--password-file", pw_file, "filed")
    assert rc == 0, err
    assert stored_ha1(db, "filed", "r") == md5("filed:r:from-file")

    rc, out, err = adduser(db, "--realm", "r", "adduser", "piped", stdin="from-stdin\n")
    assert rc == 0, err
    assert stored_ha1(db, "piped", "r") == md5("piped:r:from-stdin")

    rc, out, err = adduser(db, "--realm", "r", "adduser", "argued", "on-the-line")
    assert rc == 0, err
    assert stored_ha1(db, "argued", "r") == md5("argued:r:on-the-line")
    assert "can be read by other users in the process list and stays in the shell history" in err, err

    rc, out, err = adduser(db, "--realm", "r", "adduser", "nothing", stdin="")
    assert rc != 0 and "the password on standard input: no input (end of file)" in err, err
    assert stored_ha1(db, "nothing", "r") is None

    # On a terminal: asked twice, nothing echoed.
    master, slave = pty.openpty()
    p = subprocess.Popen([CONFAB, "proxy", "--db", str(db), "--realm", "r", "adduser", "typed"], stdin=slave,
                         stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""

    def read_until(text, timeout=10):
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text.encode() not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 1024)
                except OSError:
                    break
        assert text.encode() in seen, seen

    read_until("Password for typed (realm r): ")
    os.write(master, b"typed-secret\n")
    read_until("Again: ")
    os.write(master, b"typed-secret\n")
    read_until("saved in")
    assert p.wait(10) == 0
    os.close(master)
    assert b"typed-secret" not in seen, seen
    assert stored_ha1(db, "typed", "r") == md5("typed:r:typed-secret")

    rc, out, err = adduser(db, "users")
    assert set(out.split("\n")) >= {"filed realm=r", "piped realm=r", "argued realm=r", "typed realm=r"}, out


def test_phone_password_on_the_command_line_warns_and_still_works(tmp_path):
    db = tmp_path / "proxy.db"
    assert adduser(db, "--realm", "example.com", "adduser", "alice", stdin="pw-alice\n")[0] == 0
    proxy = Proxy(tmp_path, port=PROXY_PORT, db=db, extra=["--domain", "example.com", "--auth-register"])
    try:
        alice = phone(tmp_path, "alice", 5182, "alice", "pw-alice", password_file=False)
        assert alice.wait_event("registration")["status"] == "200"
        assert "--password on the command line can be read by other users" in alice.output()
        alice.quit()
    finally:
        proxy.stop()


def test_list_and_users_on_a_missing_database_say_so_and_create_nothing(tmp_path):
    db = tmp_path / "nothing-here.db"
    for args in (["--list"], ["users"], ["deluser", "alice"]):
        rc, out, err = adduser(db, *args)
        assert rc == 1, (args, out, err)
        assert f"no database at {db}: no proxy has run with --db {db} yet" in err, err
        assert not db.exists(), args


def test_token_files_are_private(tmp_path):
    os.umask(0o022)
    service = Service(tmp_path, sip_port=5162, api_tcp="127.0.0.1:5163")
    try:
        token = service.runtime / "confab" / "token"
        wait_for(token.exists, what="the token file")
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
    finally:
        service.stop()


def test_service_password_from_a_file_or_with_a_warning(tmp_path):
    missing = tmp_path / "no-such-file"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    r = subprocess.run([CONFAB, "service", "--sip", "127.0.0.1:5162", "--api-tcp", "off", "--web-api", "off",
                        "--password-file", missing], capture_output=True, text=True, timeout=20, env=env)
    assert r.returncode == 1
    assert f"--password-file {missing}: cannot be read (No such file or directory)" in r.stderr, r.stderr
    service = Service(tmp_path, sip_port=5162, extra=["--password", "visible"])
    try:
        wait_for(lambda: "--password on the command line can be read by other users" in service.output(),
                 what="the warning about --password")
    finally:
        service.stop()


def test_admin_and_mixer_tokens_from_files_or_with_a_warning(tmp_path):
    """The conference admin token and the mixer's HTTP token from a file (the first line);
    on the command line they still work, with a warning; both at once is refused."""
    import urllib.error
    import urllib.request
    from confab_testlib import Conference, Mixer, stop_all

    def status(port, path, token):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    token = tmp_path / "admin-token"
    token.write_text("from-the-file\nignored second line\n")
    token.chmod(0o600)
    mixer = conf = None
    try:
        mixer = Mixer(tmp_path, extra=["--http-token-file", token])
        conf = Conference(tmp_path, token="", extra=["--admin-token-file", token])
        for port, path in ((conf.admin_port, "/conferences"), (mixer.http_port, "/mixes")):
            assert status(port, path, "from-the-file") == 200
            assert status(port, path, "wrong") == 401
        assert "command line" not in conf.output() and "command line" not in mixer.output()
    finally:
        stop_all(conf, mixer)
    try:
        mixer = Mixer(tmp_path, extra=["--http-token", "on-the-line"], name="mixer2")
        conf = Conference(tmp_path, token="", extra=["--admin-token", "on-the-line"], name="conference2")
        assert status(conf.admin_port, "/conferences", "on-the-line") == 200
        assert status(mixer.http_port, "/mixes", "on-the-line") == 200
        assert ("--admin-token on the command line can be read by other users in the process list and stays in the "
                "shell history; use --admin-token-file instead") in conf.output()
        assert "--http-token on the command line can be read by other users" in mixer.output()
    finally:
        stop_all(conf, mixer)
    r = subprocess.run([CONFAB, "conference", "--admin-token", "a", "--admin-token-file", str(token)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "give --admin-token or --admin-token-file, not both" in r.stderr, r.stderr
    r = subprocess.run([CONFAB, "mixer", "--http-token-file", str(tmp_path / "none")], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0 and f"--http-token-file {tmp_path / 'none'}: cannot be read" in r.stderr, r.stderr


def test_the_service_says_how_its_registration_went(tmp_path):
    """The client service's REGISTER at its proxy, in its log in plain words: a refused
    password as 401 (not Sofia's 904), no password with what to set, success once."""
    from confab_testlib import Proc, stop_all
    db = tmp_path / "proxy.db"
    rc, out, err = adduser(db, "adduser", "--realm", "example.com", "alice", stdin="right\n")
    assert rc == 0, err
    proxy = Proxy(tmp_path, port=PROXY_PORT, db=db, extra=["--domain", "example.com", "--auth-register"])

    def service(name, *extra):
        run = tmp_path / f"{name}-run"
        run.mkdir(mode=0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(run), XDG_CONFIG_HOME=str(run / "config"))
        return Proc([CONFAB, "service", "--sip", "127.0.0.1:5164", "--identity", "sip:alice@example.com",
                     "--proxy", f"sip:127.0.0.1:{PROXY_PORT}", "--register", "--api-tcp", "off", "--web-api", "off",
                     *extra], tmp_path / f"{name}.log", env=env)

    def secret(name, text):
        path = tmp_path / name
        path.write_text(text + "\n")
        path.chmod(0o600)
        return path

    cases = [
        ("wrong", ["--password-file", secret("wrong.pw", "nope")],
         f"registration of sip:alice@example.com at sip:127.0.0.1:{PROXY_PORT} failed: 401 authentication failed: "
         "wrong password or realm; calls to the user will not reach this service"),
        ("none", [], "failed: 401 authentication required: set password_file in service.toml (or --password-file)"),
        ("right", ["--password-file", secret("right.pw", "right")],
         f"service: registered sip:alice@example.com at sip:127.0.0.1:{PROXY_PORT}"),
    ]
    try:
        for name, extra, said in cases:
            s = service(name, *extra)
            try:
                wait_for(lambda: said in s.output() or not s.alive(), what=f"{name}: {said}")
                assert said in s.output(), s.output()
                assert "904" not in s.output(), s.output()
            finally:
                stop_all(s)
    finally:
        stop_all(proxy)
