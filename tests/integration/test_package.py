"""The Debian package (scripts/package, cmake/packaging.cmake): CPack builds it from the
build tree the other tests use (no rebuild), lintian finds no error or warning, its
files and control fields are what an installation needs, `dpkg --root` installs it
into an empty directory tree (maintainer scripts included, chrootless: the tree has
no base system to chroot into), and the installed tree works: the binary, its data
files, the proxy answering SIP, the man pages, bash completion, the systemd units.
CONFAB_DEB=path tests a package scripts/package already built instead."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from confab_testlib import CONFAB, ROOT, Proxy, run_sipp

BUILD = Path(CONFAB).resolve().parent
PROXY_PORT = 5060
PARTS_WITH_UNITS = ("proxy", "conference", "mixer")


def run(args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    if os.environ.get("CONFAB_DEB"):
        return Path(os.environ["CONFAB_DEB"])
    out = tmp_path_factory.mktemp("package")
    r = run(["cpack", "--config", BUILD / "CPackConfig.cmake", "-B", out])
    assert r.returncode == 0, r.stdout + r.stderr
    debs = list(out.glob("confab_*_amd64.deb"))
    assert len(debs) == 1, r.stdout
    return debs[0]


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    """The package installed by dpkg into an empty tree with its own dpkg database."""
    r = tmp_path_factory.mktemp("root")
    for d in ("info", "updates", "triggers"):
        (r / "var/lib/dpkg" / d).mkdir(parents=True)
    (r / "var/lib/dpkg/status").touch()
    # --force-depends: the tree has none of the libraries (the binary runs with the host's).
    p = run(["dpkg", f"--root={r}", "--force-script-chrootless", "--force-depends", "-i", deb])
    assert p.returncode == 0, p.stdout + p.stderr
    return r


def version_of_build():
    out = run([CONFAB, "--version"]).stdout
    m = re.match(r"confab (\S+) ", out)
    assert m, out
    return m.group(1)


def test_lintian_finds_no_error_or_warning(deb):
    if not shutil.which("lintian"):
        pytest.fail("lintian is not installed (scripts/packages.txt)")
    r = run(["lintian", "--fail-on", "error,warning", deb])
    tags = [l for l in r.stdout.splitlines() if re.match(r"^[EW]: ", l)]
    assert r.returncode == 0 and not tags, r.stdout + r.stderr


def test_control_fields(deb):
    fields = {}
    for key in ("Package", "Version", "Architecture", "Depends", "Suggests"):
        fields[key] = run(["dpkg-deb", "-f", deb, key]).stdout.strip()
    assert fields["Package"] == "confab"
    assert fields["Version"] == version_of_build()
    assert fields["Architecture"] == "amd64"
    # dpkg-shlibdeps computed the libraries, and the user's creation needs systemd-sysusers.
    for lib in ("libsofia-sip-ua0", "libsqlite3-0", "libssl3", "libc6"):
        assert lib in fields["Depends"], fields["Depends"]
    assert fields["Depends"].startswith("systemd | systemd-standalone-sysusers"), fields["Depends"]
    assert "baresip-core" in fields["Suggests"], fields["Suggests"]
    info = run(["dpkg-deb", "-I", deb]).stdout
    for control in ("conffiles", "postinst", "postrm"):
        assert re.search(rf"\s{control}\s", info), info


def test_contents(deb):
    listing = run(["dpkg-deb", "-c", deb]).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    expected = {
        "/usr/bin/confab",
        "/usr/share/bash-completion/completions/confab",
        "/usr/lib/systemd/user/confab-service.service",
        "/usr/lib/sysusers.d/confab.conf", "/usr/lib/tmpfiles.d/confab.conf",
        "/etc/confab/proxy.toml", "/etc/confab/conference.toml", "/etc/default/confab-mixer",
        "/usr/share/confab/confab.desktop", "/usr/share/confab/confab-service.service",
        "/usr/share/confab/site/index.md", "/usr/share/confab/extension/manifest.json",
        "/usr/share/doc/confab/copyright", "/usr/share/doc/confab/changelog.gz",
        "/usr/share/doc/confab/deployment.md",
        "/usr/share/man/man1/confab.1.gz",
    }
    expected |= {f"/lib/systemd/system/confab-{p}.service" for p in PARTS_WITH_UNITS}
    expected |= {f"/usr/share/doc/confab/examples/{e.name}" for e in (ROOT / "examples").glob("*.toml")}
    # A man page for each command `confab --help` lists.
    top = run([CONFAB, "--help"]).stdout
    commands = re.findall(r"^  ([a-z][a-z0-9-]*) ", top.split("\nSubcommands:\n", 1)[1], re.M)
    assert "proxy" in commands and "chat-bot" in commands, top
    expected |= {f"/usr/share/man/man1/confab-{c}.1.gz" for c in commands}
    missing = sorted(expected - files)
    assert not missing, f"not in the package: {missing}"
    conffiles = run(["dpkg-deb", "--info", deb, "conffiles"]).stdout.split()
    assert sorted(conffiles) == ["/etc/confab/conference.toml", "/etc/confab/proxy.toml", "/etc/default/confab-mixer"]


def test_installed_binary_is_stripped_and_runs(root):
    binary = root / "usr/bin/confab"
    sections = run(["readelf", "-S", "-W", binary]).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, "the installed binary is not stripped"
    r = run([binary, "--version"])
    assert r.returncode == 0 and r.stdout.startswith(f"confab {version_of_build()} "), r.stdout + r.stderr


def hardening_problems(binary, code=None):
    """What Debian's hardening flags would have put in `binary` and is not there (readelf);
    the stack protector and the fortified functions looked for in `code` (object files,
    the project's own code alone) if given, else in what `binary` imports."""
    problems = []
    header, dynamic = run(["readelf", "-h", "-W", binary]).stdout, run(["readelf", "-d", "-W", binary]).stdout
    segments = run(["readelf", "-l", "-W", binary]).stdout
    symbols = run(["nm", "-u", *code]).stdout if code else run(["readelf", "--dyn-syms", "-W", binary]).stdout
    if not re.search(r"Type:\s+DYN", header) or not re.search(r"FLAGS_1.*\bPIE\b", dynamic):
        problems.append("not a position-independent executable (PIE)")
    if not re.search(r"\bGNU_RELRO\b", segments):
        problems.append("no RELRO segment (-z relro)")
    if not re.search(r"\(FLAGS\).*\bBIND_NOW\b|\(FLAGS_1\).*\bNOW\b", dynamic):
        problems.append("no BIND_NOW (-z now)")
    if "__stack_chk_fail" not in symbols:
        problems.append("no stack protector (__stack_chk_fail not imported)")
    if not re.search(r"\b__\w+_chk\b", symbols.replace("__stack_chk_fail", "")):
        problems.append("no _FORTIFY_SOURCE checks (no __*_chk function imported)")
    return problems


def test_the_package_build_is_hardened(tmp_path):
    """scripts/package configures its tree with dpkg-buildflags' hardening=+all flags: a part
    of the project built with exactly those has PIE, RELRO, BIND_NOW, the stack protector and
    the fortified functions (and the package's binary too, when CONFAB_DEB names one made
    by scripts/package); the same part of build/ (plain flags) lacks some, so the check can tell."""
    r = run([ROOT / "scripts" / "package", "--print-cmake-args"])
    assert r.returncode == 0, r.stderr
    args = r.stdout.splitlines()
    assert "-DCMAKE_BUILD_TYPE=None" in args and "-DCMAKE_POSITION_INDEPENDENT_CODE=ON" in args, args
    cxx = next(a for a in args if a.startswith("-DCMAKE_CXX_FLAGS="))
    for flag in ("-D_FORTIFY_SOURCE=2", "-fstack-protector-strong", "-Werror=format-security", "-O2"):
        assert flag in cxx, cxx
    assert "-z,now" in next(a for a in args if a.startswith("-DCMAKE_EXE_LINKER_FLAGS=")), args
    tree = tmp_path / "tree"
    r = run(["cmake", "-S", ROOT, "-B", tree, "-G", "Ninja", *args])
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["cmake", "--build", tree, "--target", "base_test"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    # The test binary links gtest (Debian's, hardened): the project's code is judged by its objects.
    objects = lambda t: sorted((t / "src" / "base" / "CMakeFiles" / "confab_base.dir").glob("*.o"))
    assert hardening_problems(tree / "src" / "base" / "base_test", objects(tree)) == []
    plain = BUILD / "src" / "base" / "base_test"
    if plain.exists():
        assert len(hardening_problems(plain, objects(BUILD))) >= 3, "build/ is hardened too: the check cannot tell"
    if os.environ.get("CONFAB_DEB"):
        extracted = tmp_path / "deb"
        assert run(["dpkg-deb", "-x", os.environ["CONFAB_DEB"], extracted]).returncode == 0
        assert hardening_problems(extracted / "usr" / "bin" / "confab") == []


def test_maintainer_scripts_created_the_user(root):
    # postinst ran systemd-sysusers and systemd-tmpfiles --root (DPKG_ROOT): the units'
    # User=confab exists and owns the state directory, before any service started.
    passwd = (root / "etc/passwd").read_text()
    user = re.search(r"^confab:x:(\d+):(\d+):[^:]*:/var/lib/confab:/usr/sbin/nologin$", passwd, re.M)
    assert user, passwd
    state = (root / "var/lib/confab").stat()
    assert (state.st_uid, state.st_gid) == (int(user.group(1)), int(user.group(2)))
    assert state.st_mode & 0o777 == 0o750, oct(state.st_mode)
    status = run(["dpkg", f"--root={root}", "-s", "confab"]).stdout
    assert "Status: install ok installed" in status, status


def test_installed_configs_check(root, tmp_path):
    binary = root / "usr/bin/confab"
    token = tmp_path / "admin-token"  # the example names /etc/confab/admin-token, which the host has not
    token.write_text("s3cret\n")
    token.chmod(0o600)
    for part, configs in (("proxy", ["etc/confab/proxy.toml", "usr/share/doc/confab/examples/proxy.toml"]),
                          ("conference", ["etc/confab/conference.toml",
                                          "usr/share/doc/confab/examples/conference.toml"])):
        for config in configs:
            extra = ["--admin-token-file", token] if config.endswith("examples/conference.toml") else []
            r = run([binary, part, "--check-config", root / config, *extra])
            assert r.returncode == 0 and r.stdout.strip() == f"{root / config}: OK", (config, r.stdout, r.stderr)
    # And a check that fails: the installed binary refuses a mistyped key.
    bad = tmp_path / "bad.toml"
    bad.write_text((root / "etc/confab/proxy.toml").read_text().replace("db =", "dbb ="))
    r = run([binary, "proxy", "--check-config", bad])
    assert r.returncode == 1 and "dbb" in r.stdout + r.stderr, r.stdout + r.stderr
    # The mixer's options file holds options `confab mixer` takes.
    options = re.search(r'^CONFAB_MIXER_OPTIONS="([^"]*)"', (root / "etc/default/confab-mixer").read_text(), re.M)
    assert options, "no CONFAB_MIXER_OPTIONS in /etc/default/confab-mixer"
    mixer_help = run([binary, "mixer", "--help"]).stdout
    for option in re.findall(r"--[a-z-]+", options.group(1)):
        assert re.search(rf"^  {option} ", mixer_help, re.M), f"confab mixer has no {option}"


def test_installed_proxy_answers_options(root, tmp_path):
    proxy = Proxy(tmp_path, port=PROXY_PORT, binary=root / "usr/bin/confab",
                  extra=["--config", root / "etc/confab/proxy.toml"])
    try:
        rc, log = run_sipp("request_expect.xml", f"127.0.0.1:{PROXY_PORT}", 5090, tmp_path,
                           template={"status": 200, "method": "OPTIONS"},
                           extra=["-m", "1", "-key", "ruri", f"sip:127.0.0.1:{PROXY_PORT}", "-key", "max_forwards", "70"])
        assert rc == 0, log + proxy.output()
    finally:
        proxy.stop()


def test_installed_binary_finds_its_data_files(root, tmp_path):
    # install-desktop copies packaging files: from <tree>/usr/share/confab, found beside the binary.
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    binary = root / "usr/bin/confab"
    r = run([binary, "install-desktop"], env=env)
    unit = home / "config/systemd/user/confab-service.service"
    assert unit.exists(), r.stdout + r.stderr
    assert f"ExecStart={binary} service" in unit.read_text()
    assert "Exec=" in (home / "data/applications/confab.desktop").read_text()


def test_man_pages_render(root):
    mandir = root / "usr/share/man/man1"
    for page, says in (("confab", "confab-proxy"), ("confab-proxy", "--listen"), ("confab-conference", "--mixer"),
                       ("confab-mixer", "--rtp-ports")):
        path = mandir / f"{page}.1.gz"
        r = run(["man", "--warnings", "-E", "UTF-8", "-l", path], env=dict(os.environ, MANWIDTH="80"))
        assert r.returncode == 0, r.stderr
        warnings = [l for l in r.stderr.splitlines() if l.strip()]
        assert not warnings, f"{page}: {warnings}"
        text = re.sub(".\b", "", r.stdout)
        assert re.search(r"^NAME\n\s+" + re.escape(page) + r"\s+-\s+", text, re.M), text[:400]
        assert says in text, f"{page} does not mention {says}"
        # The synopsis names how it is used, not the path it was built at.
        usage = "confab" + (" " + page.split("-", 1)[1] if "-" in page else "")
        assert re.search(r"^SYNOPSIS\n\s+" + re.escape(usage) + r" \[OPTIONS\]", text, re.M), text[:600]
        assert str(BUILD) not in text and "build/confab" not in text, text[:600]


def complete(root, *words):
    """COMPREPLY of the installed completion for the command line `confab WORDS` (last word: the cursor's)."""
    script = root / "usr/share/bash-completion/completions/confab"
    quoted = " ".join(f"'{w}'" for w in (root / "usr/bin/confab", *words))
    r = run(["bash", "--norc", "-c",
             f"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _confab; "
             "complete -p confab >&2; printf '%s\\n' \"${COMPREPLY[@]}\""])
    assert r.returncode == 0 and "_confab confab" in r.stderr, r.stderr
    return [l for l in r.stdout.splitlines() if l]


def test_bash_completion(root):
    assert complete(root, "pro") == ["proxy"]
    everything = complete(root, "")
    assert {"proxy", "conference", "mixer", "service", "chat-bot"} <= set(everything), everything
    assert complete(root, "proxy", "--li") == ["--listen", "--list"]
    assert complete(root, "proxy", "ad") == ["adduser"]
    assert "--password-file" in complete(root, "proxy", "adduser", "--")
    assert complete(root, "--log-level", "") == ["trace", "debug", "info", "warn", "error", "off"]
    assert complete(root, "mixer", "--latch", "a") == ["always"]
    assert complete(root, "conference", "--max-part") == ["--max-participants"]
    # A value that takes a file: files.
    etc = root / "etc/confab"
    assert complete(root, "proxy", "--config", f"{etc}/pro") == [f"{etc}/proxy.toml"]
    assert complete(root, "nosuchcommand", "--") == complete(root, "--")


def units_for_this_tree(root, tmp_path):
    """The installed units with the tree's paths (systemd-analyze checks that ExecStart exists)."""
    out = tmp_path / "units"
    out.mkdir()
    sources = [root / f"lib/systemd/system/confab-{p}.service" for p in PARTS_WITH_UNITS]
    sources.append(root / "usr/lib/systemd/user/confab-service.service")
    for unit in sources:
        text = unit.read_text().replace("/usr/bin/confab", f"{root}/usr/bin/confab")
        (out / unit.name).write_text(text.replace("/etc/default/", f"{root}/etc/default/"))
    return out


def test_systemd_units(root, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing (Debian package systemd)")
    units = units_for_this_tree(root, tmp_path)
    env = dict(os.environ, MANPATH=str(root / "usr/share/man"))  # Documentation=man:confab-proxy(1) resolves
    system = [units / f"confab-{p}.service" for p in PARTS_WITH_UNITS]
    r = run(["systemd-analyze", "verify", *system], env=env)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    r = run(["systemd-analyze", "verify", "--user", units / "confab-service.service"],
            env=dict(env, XDG_RUNTIME_DIR=str(runtime)))
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    for part in PARTS_WITH_UNITS:
        text = (root / f"lib/systemd/system/confab-{part}.service").read_text()
        start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1).split()
        assert start[:2] == ["/usr/bin/confab", part], start
        config = re.search(r"--config (\S+)", " ".join(start))
        if config:  # the config it names is one the package installs
            assert (root / config.group(1).lstrip("/")).exists(), config.group(1)
            # and `systemctl reload` has it re-read (SIGHUP: `confab ctl PART reload`)
            assert "ExecReload=/bin/kill -HUP $MAINPID" in text, f"confab-{part}.service cannot be reloaded"
        for option in ("User=confab", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
                       "SystemCallFilter=@system-service", "Restart=on-failure"):
            assert option in text, f"confab-{part}.service lacks {option.strip()}"
        # Exposure 0 (best) to 10: fails above 2.0 ("OK" is below 4).
        r = run(["systemd-analyze", "security", "--offline=true", "--threshold=20", units / f"confab-{part}.service"],
                env=env)
        score = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
        assert score and float(score.group(1)) <= 2.0, r.stdout[-2000:]
        print(f"confab-{part}.service exposure {score.group(1)}")
    user_unit = (root / "usr/lib/systemd/user/confab-service.service").read_text()
    assert "ExecStart=/usr/bin/confab service" in user_unit, user_unit


def test_purge_removes_the_package(deb, tmp_path):
    # A tree of its own: the tests above use the installed one.
    r = tmp_path / "root"
    for d in ("info", "updates", "triggers"):
        (r / "var/lib/dpkg" / d).mkdir(parents=True)
    (r / "var/lib/dpkg/status").touch()
    dpkg = ["dpkg", f"--root={r}", "--force-script-chrootless", "--force-depends"]
    assert run([*dpkg, "-i", deb]).returncode == 0
    (r / "var/lib/confab/proxy.db").write_text("")  # as the proxy leaves it
    p = run([*dpkg, "--purge", "confab"])
    assert p.returncode == 0, p.stdout + p.stderr
    # What stays: dpkg's database and the confab user (Debian policy keeps system users).
    users = {"passwd", "group", "shadow", "gshadow", ".pwd.lock"}
    left = [str(f.relative_to(r)) for f in r.rglob("*") if f.is_file() and "var/lib/dpkg" not in str(f)
            and not (f.parent == r / "etc" and f.name.rstrip("-") in users)]
    assert not left, left
    assert not (r / "var/lib/confab").exists(), "purge left the state directory"
