"""Config files as an operator meets them: each mistake the issue found (a key
misspelt, a table misnamed, a TOML syntax error) stops the part with the file,
the line and the nearest valid key; `--check-config` says OK or what is wrong
without starting anything; every example config under examples/ checks out and
names every setting; and each part's settings table in docs/deployment.md
matches what `confab <part> --help` offers and the file keys the code reads
(shown in the help as [file: KEY], from the part's settings table in the code)."""
import os
import re
import subprocess
import tomllib

import pytest

from confab_testlib import CONFAB, ROOT

EXAMPLES = ROOT / "examples"
DEPLOYMENT = ROOT / "docs" / "deployment.md"

# part -> (its example config, the heading of its section in docs/deployment.md)
PARTS = {
    "proxy": ("proxy.toml", "## The proxy/registrar"),
    "conference": ("conference.toml", "## The conference server"),
    "service": ("service.toml", "## The client service"),
    "chat-bot": ("chat-bot.toml", "## Running the chat bot against an XMPP server"),
    "game": ("world.toml", "## The game server"),
}


def confab(*args, timeout=10):
    return subprocess.run([CONFAB, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the mistakes, as a person sees them when starting the part -------------

def test_a_misspelt_key_under_proxy_auth_stops_the_proxy_with_the_line_and_the_key_meant(tmp_path):
    """`registr = true` used to run the proxy with no authentication at all."""
    path = write(tmp_path, "proxy.toml", '[proxy]\ndomains = ["example.com"]\n\n[proxy.auth]\nregistr = true\n')
    r = confab("proxy", "--config", path, "--listen", "udp:127.0.0.1:5999", "--db", tmp_path / "p.db")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"confab: {path}:5: proxy.auth.registr: unknown key (did you mean 'register'?)" in r.stderr, r.stderr
    assert not (tmp_path / "p.db").exists()  # refused before anything was opened


def test_a_misspelt_admin_token_stops_the_conference_server(tmp_path):
    """`admin_tokn` used to leave the admin API open to anyone."""
    path = write(tmp_path, "conference.toml", '[conference]\nadmin = "127.0.0.1:5981"\nadmin_tokn = "s3cret"\n')
    r = confab("conference", "--config", path, "--listen", "udp:127.0.0.1:5980")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{path}:3: conference.admin_tokn: unknown key (did you mean 'admin_token'?)" in r.stderr, r.stderr


def test_a_misnamed_table_stops_the_conference_server(tmp_path):
    """`[conferences]` used to drop the whole table in silence."""
    path = write(tmp_path, "conference.toml", '# limits\n[conferences]\nmax_participants = 5\n')
    r = confab("conference", "--config", path, "--listen", "udp:127.0.0.1:5980")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{path}:2: conferences: unknown table (did you mean [conference]?)" in r.stderr, r.stderr


def test_a_misspelt_default_device_stops_the_service(tmp_path):
    """`defualt_device` in service.toml used to be ignored."""
    path = write(tmp_path, "service.toml",
                 '[service]\ndefualt_device = "desk"\n\n[devices.desk]\nkind = "sip"\nuri = "sip:desk@127.0.0.1:7001"\n')
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    r = subprocess.run([CONFAB, "service", "--config", str(path), "--sip", "udp:127.0.0.1:5998", "--api-tcp", "off",
                        "--web-api", "off"], capture_output=True, text=True, timeout=10, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{path}:2: service.defualt_device: unknown key (did you mean 'default_device'?)" in r.stderr, r.stderr
    assert not (tmp_path / "confab" / "service.sock").exists()


def test_a_toml_syntax_error_names_the_line_and_column(tmp_path):
    path = write(tmp_path, "proxy.toml", '[proxy]\ndb = "/tmp/x.db"\nrecord_route = \n')
    r = confab("proxy", "--config", path, "--listen", "udp:127.0.0.1:5999")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"confab: {path}:3:16: Error while parsing key-value pair: expected value" in r.stderr, r.stderr


def test_a_value_of_the_wrong_type_is_refused_not_ignored(tmp_path):
    """`register = "yes"` used to be skipped as silently as a misspelt key."""
    path = write(tmp_path, "proxy.toml", '[proxy.auth]\nregister = "yes"\n')
    r = confab("proxy", "--check-config", path)
    assert r.returncode == 1 and f'{path}:2: proxy.auth.register: must be true or false, not "yes"' in r.stderr, \
        r.stdout + r.stderr


# --- --check-config ---------------------------------------------------------

@pytest.mark.parametrize("part", ["proxy", "conference", "service", "chat-bot", "game"])
def test_check_config_says_ok_for_a_good_file_and_the_error_for_a_bad_one(tmp_path, part):
    good = {"proxy": '[proxy.auth]\nregister = true\n', "conference": '[conference]\nadmin_token = "t"\n',
            "service": '[service]\ndefault_device = "desk"\n[devices.desk]\nkind = "sip"\nuri = "sip:d@127.0.0.1"\n',
            "chat-bot": '[chat_bot]\nroom = "team@conference.example.org"\n', "game": 'name = "park"\n'}[part]
    bad = {"proxy": '[proxy.auth]\nregistr = true\n', "conference": '[conference]\nadmin_tokn = "t"\n',
           "service": '[service]\ndefualt_device = "desk"\n', "chat-bot": '[chat_bot]\nrom = "x@y"\n',
           "game": 'name = "park"\nsped = 3\n'}[part]
    said = {"proxy": "2: proxy.auth.registr: unknown key (did you mean 'register'?)",
            "conference": "2: conference.admin_tokn: unknown key (did you mean 'admin_token'?)",
            "service": "2: service.defualt_device: unknown key (did you mean 'default_device'?)",
            "chat-bot": "2: chat_bot.rom: unknown key (did you mean 'room'?)",
            "game": "2: sped: unknown key (did you mean 'speed'?)"}[part]
    extra = extra_options(tmp_path, part)
    ok = confab(part, "--check-config", write(tmp_path, "good.toml", good), *extra)
    assert ok.returncode == 0 and ok.stdout == f"{tmp_path / 'good.toml'}: OK\n", ok.stdout + ok.stderr
    wrong = confab(part, "--check-config", write(tmp_path, "bad.toml", bad), *extra)
    assert wrong.returncode == 1 and wrong.stdout == "", wrong.stdout + wrong.stderr
    assert wrong.stderr == f"confab: {tmp_path / 'bad.toml'}:{said}\n", wrong.stderr


def test_check_config_checks_what_the_part_checks_at_start(tmp_path):
    """Beyond the keys: a device's own settings, a default device that does not exist."""
    path = write(tmp_path, "service.toml",
                 '[devices.soft]\nkind = "softphone"\nprogram = "confab-phone"\nsip_port = "7320"\nsip_prot = "1"\n')
    r = confab("service", "--check-config", path, *extra_options(tmp_path, "service"))
    assert r.returncode == 1 and "unknown setting 'sip_prot'" in r.stderr, r.stdout + r.stderr
    path = write(tmp_path, "service.toml", '[service]\ndefault_device = "desk"\n')
    r = confab("service", "--check-config", path, *extra_options(tmp_path, "service"))
    assert r.returncode == 1 and "default_device 'desk' is neither a configured device nor a SIP URI" in r.stderr, \
        r.stdout + r.stderr


def extra_options(tmp_path, part):
    """What a part needs beside its file to pass the checks it makes at start."""
    if part == "chat-bot":
        password = write(tmp_path, "password", "s3cret\n")
        return ["--jid", "bot@example.org", "--password-file", password, "--room", "team@conference.example.org",
                "--conference-host", "conf.example.org"]
    if part == "service":
        return ["--api-socket", tmp_path / "service.sock", "--token-file", tmp_path / "token"]
    if part == "conference":  # the example's admin_token_file names /etc/confab/admin-token
        return ["--admin-token-file", write(tmp_path, "admin-token", "s3cret\n")]
    return []


# Settings of which a file gives one or the other (both is an error): one shown is enough.
ALTERNATIVES = {"conference.admin_token": "conference.admin_token_file"}


# --- the examples -----------------------------------------------------------

@pytest.mark.parametrize("part", PARTS)
def test_each_example_config_checks_out_and_names_every_setting(tmp_path, part):
    example = EXAMPLES / PARTS[part][0]
    r = confab(part, "--check-config", example, *extra_options(tmp_path, part))
    assert r.returncode == 0 and r.stdout == f"{example}: OK\n", r.stdout + r.stderr
    present = set(flat_keys(tomllib.loads(example.read_text())))
    present |= {key for key, other in ALTERNATIVES.items() if other in present}
    missing = [key for key in help_options(part).values() if key and key.removesuffix(".*") not in present]
    assert not missing, f"{example} does not show {missing}"


def flat_keys(table, prefix=""):
    for key, value in table.items():
        name = f"{prefix}{key}"
        yield name
        if isinstance(value, dict):
            yield from flat_keys(value, name + ".")


# --- the settings tables: code, --help and docs agree ------------------------

def help_options(part):
    """{option: its file key or None} from `confab PART --help` (global options left out)."""
    r = confab(part, "--help")
    assert r.returncode == 0, r.stderr
    options = {}
    lines = r.stdout.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s+(-\S.*?)(?:\s{2,}(\S.*))?$", line)
        if not m:
            continue
        # CLI11 puts the description of a long option on the next line.
        following = lines[i + 1] if i + 1 < len(lines) else ""
        description = m.group(2) or ("" if re.match(r"^\s+-", following) else following)
        key = re.search(r"\[file: ([^\]]+)\]", description)
        for name in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", m.group(1)):
            options[name] = key.group(1) if key else None
    for name in global_options() | {"--help"}:
        options.pop(name, None)
    return options


def global_options():
    r = confab("--help")
    names = set()
    for line in r.stdout.splitlines():
        m = re.match(r"^\s+(-\S.*?)(\s{2,}|$)", line)
        if m:
            names |= set(re.findall(r"--[a-z][a-z0-9-]*", m.group(1)))
    return names


def docs_options(part):
    """{option: its file key or None} from the part's table in docs/deployment.md."""
    text = DEPLOYMENT.read_text()
    heading = PARTS[part][1]
    start = text.index("\n" + heading) + 1
    end = text.find("\n## ", start + len(heading))
    options = {}
    for line in text[start:end if end > 0 else None].splitlines():
        if not line.startswith("| `--"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        key = re.fullmatch(r"`([^`]+)`", cells[1]) if len(cells) >= 3 else None
        for name in re.findall(r"`(--[a-z][a-z0-9-]*)", cells[0]):
            options[name] = key.group(1) if key else None
    for name in global_options():
        options.pop(name, None)
    return options


@pytest.mark.parametrize("part", PARTS)
def test_the_docs_table_matches_the_options_and_the_file_keys(part):
    in_help, in_docs = help_options(part), docs_options(part)
    assert in_help, f"no options parsed from confab {part} --help"
    undocumented = {o: k for o, k in in_help.items() if o not in in_docs}
    unknown = {o: k for o, k in in_docs.items() if o not in in_help}
    differ = {o: (in_docs[o], k) for o, k in in_help.items() if o in in_docs and in_docs[o] != k}
    assert not undocumented and not unknown and not differ, \
        (f"docs/deployment.md '{PARTS[part][1]}': options missing from its table {undocumented}; "
         f"in the table but not in --help {unknown}; file key in docs vs code {differ}")


@pytest.mark.parametrize("part", ["proxy", "conference", "service", "chat-bot"])
def test_a_setting_is_both_an_option_and_a_file_key_or_the_docs_say_why_not(part):
    """Options without a file key are the ones that name the file or act, listed here with the reason."""
    not_settings = {"--config": "names the file", "--check-config": "names the file to check",
                    "--list": "an action: print the registrations"}
    without_key = {o for o, k in help_options(part).items() if k is None} - set(not_settings)
    assert not without_key, f"confab {part}: options with no file key {without_key}"
