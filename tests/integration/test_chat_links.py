"""A real third-party chat whose links join calls (issue 13): Debian's Prosody (a group
room, WebSocket on), two users each in a Chromium of their own with the Confab links
extension loaded, each logged in to the room in converse.js (the unmodified web XMPP
client from npm, tests/browser/converse.html), driven by tests/browser/converse_chat.mjs.

Each user has their own `confab service` (own runtime dir, socket and SIP port), whose
default device is a `confab phone` playing a tone of its own and recording; the native
messaging host of each browser is a small script that runs `confab native-host` with that
user's runtime dir and service.toml, whose conference_server names the conference server
on loopback (its own port, not the default, so the setting is what counts).

- "standup at conf:standup" from Ann becomes a link in Bob's browser and her own; each
  clicks it and their phones join sip:standup@<conference host>: each recording holds the
  other's tone at the level it was sent with, not its own.
- A sip: URI in a message, Shift+clicked: the extension asks for the device (ExternalJoin),
  the service asks its chooser (answered here on the API as the chooser page does), and the
  picked device, not the default one, joins and hears the other user.
- The room's bot (`confab chat-bot` in the same room): Ann's `/voice` posts the voice room's
  sip: link and conf: shorthand, which work as above (Bob clicks the one, Ann the other), and
  the room sees "bob joined the voice room", "/voice who" lists both, and after Bob hangs up
  (through his service's API) "bob left the voice room", in that order, in both browsers.
"""
import functools
import http.server
import json
import re
import threading
import time
import wave
from pathlib import Path

import pytest

from confab_testlib import (CONFAB, BROWSER_SCRIPTS, BrowserDriver, Conference, Mixer, Phone, Proc, Service, port_is_bound, read_wav, start,
                            stop_all, tone_levels_db, tone_snr_db, wait_for)
from xmpp_server import start_prosody

CONF_PORT, CONF_ADMIN = 5085, 5086
CONF = f"127.0.0.1:{CONF_PORT}"
ROOM = "team"
VOLUME = 0.2  # each phone's tone amplitude: -14 dBFS
USERS = {  # nick: (SIP port of the service, port of its desk phone, that phone's tone)
    "ann": (6062, 5172, 500),
    "bob": (6064, 5174, 700),
}
BOB_LAPTOP = (5176, 900)  # Bob's second device, for the device choice
BOT_SIP = 5079


class PageServer:
    """tests/browser over HTTP on loopback (converse.html and node_modules/converse.js/dist as they are)."""

    def __init__(self):
        handler = functools.partial(Quiet, directory=str(BROWSER_SCRIPTS))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def native_host(tmp_path, svc):
    """The program a user's browser starts for the extension: `confab native-host` with the user's
    runtime dir (the service's socket) and the service's own service.toml."""
    script = Path(tmp_path) / f"native-host-{svc.log_path.stem}.sh"
    script.write_text(f"#!/bin/sh\nexport XDG_RUNTIME_DIR='{svc.runtime}' XDG_CONFIG_HOME='{svc.runtime / 'config'}'\n"
                      f"exec '{CONFAB}' native-host --config '{svc.config_path}' \"$@\" "
                      f"2>>'{Path(tmp_path) / ('native-host-' + svc.log_path.stem + '.log')}'\n")
    script.chmod(0o755)
    return script


def user_service(tmp_path, procs, nick, devices):
    sip_port = USERS[nick][0]
    return start(procs, Service(tmp_path, sip_port=sip_port, name=f"service-{nick}", devices=devices,
                                default_device="desk", config=f'[service]\nconference_server = "{CONF}"\n'))


def identity(nick):
    return f"sip:alice@127.0.0.1:{USERS[nick][0]}"  # the Service fixture's identity of each service


def api(svc, xml):
    """The status of one request to `svc`'s API (what a local program sends)."""
    client = svc.client()
    try:
        return client.call(xml).get("status")
    finally:
        client.close()


def in_conference(conf, room):
    return sorted(p["uri"] for p in conf.conferences().get(room, {}).get("participants", []))


@pytest.fixture
def chat(tmp_path):
    """The conference server and mixer, Prosody, the page, each user's phones and service, and both
    browsers in the room; yields a dict of them."""
    procs, extra = [], []
    driver = None
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path, port=CONF_PORT, admin_port=CONF_ADMIN))
        phones, services = {}, {}
        for nick, (_, port, tone) in USERS.items():
            phones[nick] = start(procs, Phone(tmp_path, nick, port, "--auto-answer", "--tone", str(tone),
                                              "--volume", str(VOLUME)))
        phones["bob-laptop"] = start(procs, Phone(tmp_path, "bob-laptop", BOB_LAPTOP[0], "--auto-answer", "--tone",
                                                  str(BOB_LAPTOP[1]), "--volume", str(VOLUME)))
        services["ann"] = user_service(tmp_path, procs, "ann", [f"desk=sip:ann@127.0.0.1:{USERS['ann'][1]}"])
        services["bob"] = user_service(tmp_path, procs, "bob", [f"desk=sip:bob@127.0.0.1:{USERS['bob'][1]}",
                                                                f"laptop=sip:bob@127.0.0.1:{BOB_LAPTOP[0]}"])
        xmpp = start_prosody(tmp_path, users={**{nick: f"pw-{nick}" for nick in USERS}, "bot": "pw-bot"})
        extra.append(xmpp)
        pages = PageServer()
        extra.append(pages)
        config = {"page": f"{pages.url}/converse.html", "ws": xmpp.websocket_url, "room": xmpp.room_jid(ROOM),
                  "users": [{"nick": nick, "jid": xmpp.jid(nick), "password": f"pw-{nick}",
                             "host": str(native_host(tmp_path, services[nick]))} for nick in USERS]}
        started = time.monotonic()
        driver = BrowserDriver("converse_chat.mjs", json.dumps(config), log_path=tmp_path / "driver.log")
        driver.line("ready")
        print(f"both users in the room after {time.monotonic() - started:.1f} s")
        yield {"conf": conf, "phones": phones, "services": services, "driver": driver, "xmpp": xmpp, "procs": procs}
    finally:
        if driver:
            driver.close()
        for x in reversed(extra):
            x.stop()
        stop_all(*reversed(procs))


def tone_windows(phones):
    """{name: (start, end)} in seconds on each phone's recording: the next 2 s, once recorded."""
    starts = {name: phone.clock_ms() + 300 for name, phone in phones.items()}
    for name, phone in phones.items():
        phone.record_until(starts[name] + 2000)
    return {name: (t / 1000, (t + 2000) / 1000) for name, t in starts.items()}


def assert_hears(path, window, others, own):
    """In `window` of the recording: each tone of `others` at the level it was sent with
    (-14 dBFS, within 4 dB; median of 100 ms steps), its own tone at least 30 dB below, and
    little else: the median SNR of its 500 ms blocks at least 25 dB (one block hit by a
    scheduling hiccup on a loaded machine does not fail it; a wrong or noisy mix does).
    Returns (levels, median SNR, worst block's SNR)."""
    import numpy as np
    x, rate = read_wav(path)
    x = x[int(window[0] * rate):int(window[1] * rate)]
    assert len(x) >= rate, f"{path.name}: recording too short for {window}"
    levels = {f: float(np.median(v)) for f, v in tone_levels_db(x, rate, [*others, own], 100).items()}
    expected = 20 * np.log10(VOLUME)
    for f in others:
        assert abs(levels[f] - expected) <= 4, f"{path.name} {window}: {f} Hz at {levels[f]:.1f} dBFS: {levels}"
    assert levels[own] < expected - 30, f"{path.name} {window}: hears itself: {levels}"
    snrs = []
    block = rate // 2
    for i in range(len(x) // block):
        part = Path(f"{path}.{window[0]:.1f}-{i}.wav")
        with wave.open(str(part), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(x[i * block:(i + 1) * block].astype("<i2").tobytes())
        snrs.append(tone_snr_db(part, list(others), skip=0))
    snr = float(np.median(snrs))
    assert snr >= 25, f"{path.name} {window}: SNR {snr:.1f} dB (blocks: {[round(v, 1) for v in snrs]})"
    return levels, snr, min(snrs)


def click(driver, nick, text, how="click"):
    driver.ask(f"{how} {nick} {text}", f"clicked {nick}")


def test_conference_names_and_sip_uris_in_chat_messages_join_both_users(chat, tmp_path):
    conf, phones, services, driver = chat["conf"], chat["phones"], chat["services"], chat["driver"]
    t0 = time.monotonic()

    # 1. The conference shorthand, clicked: the default device of each user joins.
    standup = f"sip:standup@{CONF}"
    driver.ask("say ann standup at conf:standup", "said ann")
    for nick in ("bob", "ann"):
        link = json.loads(driver.ask(f"link {nick} conf:standup", f"link {nick} "))
        assert link == {"href": standup, "kind": "conf"}, (nick, link)
    click(driver, "bob", "conf:standup")
    notice = json.loads(driver.ask("notice bob", "notice bob "))
    assert notice["kind"] == "ok" and notice["text"].startswith(f"Confab: joined {standup}"), notice
    wait_for(lambda: in_conference(conf, "standup") == [identity("bob")], what="Bob in standup",
             state=lambda: conf.conferences())
    click(driver, "ann", "conf:standup")
    notice = json.loads(driver.ask("notice ann", "notice ann "))
    assert notice["kind"] == "ok" and notice["text"].startswith(f"Confab: joined {standup}"), notice
    wait_for(lambda: in_conference(conf, "standup") == sorted([identity("ann"), identity("bob")]),
             what="Ann and Bob in standup", state=lambda: conf.conferences())
    joined_1 = time.monotonic() - t0
    window_1 = tone_windows({nick: phones[nick] for nick in ("ann", "bob")})
    for nick in ("ann", "bob"):
        assert api(services[nick], "<Hangup/>") == "ok"
    for nick in ("ann", "bob"):
        phones[nick].wait_event("terminated")
    wait_for(lambda: not in_conference(conf, "standup"), what="standup empty")

    # 2. A sip: URI, Shift+clicked: Bob is asked for the device and picks his laptop.
    t1 = time.monotonic()
    retro = f"sip:retro@{CONF}"
    chooser = services["bob"].client()
    assert chooser.call('<Subscribe events="choices"/>').get("status") == "ok"
    driver.ask(f"say ann retro now: {retro}, bring notes", "said ann")
    link = json.loads(driver.ask(f"link bob {retro}", "link bob "))
    assert link == {"href": retro, "kind": "sip"}, link
    click(driver, "bob", retro, "shift-click")
    request = wait_for(lambda: next((m for m in chooser.events() if m.tag == "ChoiceRequest"), None),
                       what="the chooser asked for Bob's device")
    assert request.get("target") == retro, request.attrib
    assert chooser.call(f'<Choose choice="{request.get("choice")}" dev="laptop"/>').get("status") == "ok"
    chooser.close()
    notice = json.loads(driver.ask("notice bob", "notice bob "))
    assert notice["kind"] == "ok" and notice["text"].startswith(f"Confab: joined {retro}"), notice
    click(driver, "ann", retro)
    notice = json.loads(driver.ask("notice ann", "notice ann "))
    assert notice["kind"] == "ok" and notice["text"].startswith(f"Confab: joined {retro}"), notice
    wait_for(lambda: in_conference(conf, "retro") == sorted([identity("ann"), identity("bob")]),
             what="Ann and Bob in retro", state=lambda: conf.conferences())
    joined_2 = time.monotonic() - t1
    window_2 = tone_windows({nick: phones[nick] for nick in ("ann", "bob-laptop")})
    # The picked device rang, not Bob's default one (which was called once, for standup).
    assert len(phones["bob-laptop"].events_named("incoming")) == 1
    assert len(phones["bob"].events_named("incoming")) == 1

    stop_all(*phones.values())  # their recordings are complete once they quit
    tones = {"ann": USERS["ann"][2], "bob": USERS["bob"][2], "bob-laptop": BOB_LAPTOP[1]}
    report = []
    for window, pairs in ((window_1, [("ann", "bob"), ("bob", "ann")]),
                          (window_2, [("ann", "bob-laptop"), ("bob-laptop", "ann")])):
        for me, other in pairs:
            levels, snr, worst = assert_hears(phones[me].record, window[me], [tones[other]], tones[me])
            report.append(f"{me} hears {other} at {levels[tones[other]]:.1f} dBFS (own tone {levels[tones[me]]:.1f}, "
                          f"SNR {snr:.0f} dB, worst 0.5 s {worst:.0f} dB)")
    print(f"from the message sent to both users in its conference: conf: link {joined_1:.1f} s, "
          f"sip: link with the device choice {joined_2:.1f} s; " + "; ".join(report))


class ChatBot(Proc):
    """`confab chat-bot` in the room, its voice rooms on our conference server; the services'
    SIP identities mapped from the users' JIDs (so the room names them by nick)."""

    def __init__(self, tmp_path, xmpp):
        password = Path(tmp_path) / "bot.password"
        password.write_text("pw-bot\n")
        config = Path(tmp_path) / "bot.toml"
        config.write_text("[chat_bot.addresses]\n" + "".join(f'"{xmpp.jid(nick)}" = "{identity(nick)}"\n' for nick in USERS))
        assert not port_is_bound(BOT_SIP), f"port {BOT_SIP} is already in use"
        super().__init__([CONFAB, "chat-bot", "--config", config, "--jid", xmpp.jid("bot"), "--password-file", password,
                          "--room", xmpp.room_jid(ROOM), "--conference-host", CONF,
                          "--xmpp-server", f"127.0.0.1:{xmpp.c2s_port}", "--sip", f"127.0.0.1:{BOT_SIP}"],
                         Path(tmp_path) / "chat-bot.log")


def test_the_rooms_bot_posts_a_voice_room_link_that_joins_and_tells_who_joined_and_left(chat, tmp_path):
    conf, phones, services, driver = chat["conf"], chat["phones"], chat["services"], chat["driver"]
    bot = start(chat["procs"], ChatBot(tmp_path, chat["xmpp"]))
    driver.ask("occupant ann confab", "occupant ann confab")
    t0 = time.monotonic()
    driver.ask("say ann /voice", "said ann")
    texts = json.loads(driver.ask("seen bob Voice room: sip:", "seen bob "))
    m = re.fullmatch(rf"Voice room: (sip:(voice-[0-9a-f]+)@{re.escape(CONF)}) \(conf:(voice-[0-9a-f]+)\)", texts[-1])
    assert m and m.group(2) == m.group(3), texts
    uri, name = m.group(1), m.group(2)
    assert json.loads(driver.ask(f"link bob {uri}", "link bob ")) == {"href": uri, "kind": "sip"}
    assert json.loads(driver.ask(f"link ann conf:{name}", "link ann ")) == {"href": uri, "kind": "conf"}
    driver.ask("screenshot bob " + str(tmp_path / "bob-voice-room.png"), "screenshot bob")

    click(driver, "bob", uri)
    notice = json.loads(driver.ask("notice bob", "notice bob "))
    assert notice["kind"] == "ok" and notice["text"].startswith(f"Confab: joined {uri}"), notice
    driver.ask("seen ann bob joined the voice room", "seen ann ")
    click(driver, "ann", f"conf:{name}")
    notice = json.loads(driver.ask("notice ann", "notice ann "))
    assert notice["kind"] == "ok" and notice["text"].startswith(f"Confab: joined {uri}"), notice
    driver.ask("seen bob ann joined the voice room", "seen bob ")
    joined = time.monotonic() - t0
    assert in_conference(conf, name) == sorted([identity("ann"), identity("bob")]), conf.conferences()
    driver.ask("say bob /voice who", "said bob")
    texts = json.loads(driver.ask(f"seen bob In the voice room {name}:", "seen bob "))
    assert texts[-1] == f"In the voice room {name}: bob, ann", texts
    window = tone_windows({nick: phones[nick] for nick in ("ann", "bob")})

    assert api(services["bob"], "<Hangup/>") == "ok"
    t1 = time.monotonic()
    for nick in ("ann", "bob"):  # both browsers show the lines, in order
        texts = json.loads(driver.ask(f"seen {nick} bob left the voice room", f"seen {nick} "))
        lines = [t for t in texts if t.endswith(" the voice room")]
        assert lines == ["bob joined the voice room", "ann joined the voice room", "bob left the voice room"], texts
    left = time.monotonic() - t1
    assert bot.alive() and "[error]" not in bot.output(), bot.output()[-3000:]

    stop_all(phones["ann"], phones["bob"])
    heard = []
    for me, other in (("ann", "bob"), ("bob", "ann")):
        levels, snr, worst = assert_hears(phones[me].record, window[me], [USERS[other][2]], USERS[me][2])
        heard.append(f"{me} hears {other} at {levels[USERS[other][2]]:.1f} dBFS (SNR {snr:.0f} dB, worst 0.5 s "
                     f"{worst:.0f} dB)")
    print(f"bot: /voice sent -> both clicked, joined and announced: {joined:.1f} s; hang-up -> 'bob left' in both "
          f"browsers: {left:.1f} s; " + "; ".join(heard))
