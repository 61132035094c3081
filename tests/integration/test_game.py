"""confab game: the world, players over the WebSocket protocol (a small RFC 6455
client below), the server's authority over movement, hostile input that closes
only its own connection, start-up errors, and the page in headless Chromium
(tests/browser/game.mjs): two players, one walks into another zone with the
arrow keys, the other sees it."""
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from confab_testlib import (CONFAB, Conference, Mixer, Phone, Proc, Service, WebSocket, port_is_bound, start,
                            stop_all, switch_gap_ms, wait_for)

GAME = 8081
GAME_ORIGIN = f"http://127.0.0.1:{GAME}"
BROWSER = Path(__file__).resolve().parent.parent / "browser"
CLIENT_WORLD = 'voice = "client"\nspeed = 25\n'


class Game(Proc):
    """`confab game` on 127.0.0.1:GAME (no conference host unless given)."""

    def __init__(self, tmp_path, *extra, world=None, name="game", port=GAME):
        self.port = port
        args = [CONFAB, "game", "--listen", f"127.0.0.1:{port}", *extra]
        if world is not None:
            path = Path(tmp_path) / f"{name}.toml"
            path.write_text(world)
            args += ["--world", path]
        assert not port_is_bound(port, "tcp"), f"port {port} is already in use"
        super().__init__(args, Path(tmp_path) / f"{name}.log")
        wait_for(lambda: port_is_bound(port, "tcp") or not self.alive(), what="game server")
        assert self.alive(), f"game server exited:\n{self.output()}"

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()


class GameSocket(WebSocket):
    """The game's WebSocket with each state merged, as the page does, into the world the
    client knows: {"type": "state", "players": [{id, name, voice, x, y, zone}, ...],
    "rosters": {zone: [uri, ...]}, "you": {...}, "raw": the message itself}."""

    def __init__(self, port=GAME):
        super().__init__(port)
        self.cards, self.zones, self.rosters, self.seq = {}, {}, {}, 0

    def recv(self, timeout=5.0):
        m = super().recv(timeout)
        if not m or m.get("type") != "state":
            return m
        self.seq += 1
        self.cards.update(m.get("players", {}))
        for pid in m.get("left", []):
            self.cards.pop(pid, None)
        for zone, positions in m.get("zones", {}).items():
            self.zones[zone] = (self.seq, positions)
        self.rosters.update(m.get("rosters", {}))
        where = {}  # a player is where the newest zone list that has it says
        for zone, (seq, positions) in self.zones.items():
            for pid, x, y in positions:
                if pid in self.cards and (pid not in where or where[pid][0] < seq):
                    where[pid] = (seq, {"id": pid, **self.cards[pid], "x": x, "y": y, "zone": zone})
        players = sorted((p for _, p in where.values()), key=lambda p: int(p["id"][1:]))
        return {"type": "state", "raw": m, "players": players, "rosters": dict(self.rosters), "you": m["you"]}


def join(name, sip=None, port=GAME):
    ws = GameSocket(port)
    ws.send({"type": "join", "name": name, "sip": sip or f"sip:{name.lower()}@127.0.0.1:5062"})
    welcome = ws.next("welcome")
    return ws, welcome["id"]


def player(state, pid):
    return next(p for p in state["players"] if p["id"] == pid)


@pytest.fixture
def game(tmp_path):
    g = Game(tmp_path)
    yield g
    assert g.stop() == 0, g.output()


def test_the_page_its_script_and_the_world_are_served(game):
    status, kind, html = game.get("/")
    assert status == 200 and kind.startswith("text/html") and '<canvas id="map"' in html and "/game.js" in html
    status, kind, js = game.get("/game.js")
    assert status == 200 and kind.startswith("text/javascript") and "ServiceVoice" in js
    status, kind, world = game.get("/world")
    w = json.loads(world)
    assert [z["name"] for z in w["zones"]] == ["nw", "ne", "sw", "se"] and w["speed"] == 5 and w["voice"] == "server"
    assert w["zones"][0]["conference"] == ""  # no conference host: no conferences


def test_two_players_join_move_and_cross_into_another_zone(game):
    ann, a = join("Ann")
    bob, b = join("Bob")
    state = ann.next("state", until=lambda m: len(m["players"]) == 2)
    assert state["you"]["id"] == a and state["you"]["zone"] == "nw" and player(state, b)["zone"] == "ne"
    assert state["you"]["voice"] == {"state": "off",
                                     "reason": "no voice: the game server runs without --conference-host"}
    assert state["you"]["hears"][0] == {"zone": "nw", "db": 0}
    ann.send({"type": "move", "dx": 1, "dy": 0})  # east, into ne (at most 37.5 m: 7.5 s)
    state = ann.next("state", timeout=12, until=lambda m: m["you"]["zone"] == "ne")
    assert player(state, a)["x"] >= 50 and state["you"]["hears"][0] == {"zone": "ne", "db": 0}
    # Just over the line: it hears the zone it left, a little below -6 dB (-5.4 dB a metre).
    assert any(h["zone"] == "nw" and -12 <= h["db"] <= -6 for h in state["you"]["hears"][1:]), state["you"]
    seen = bob.next("state", until=lambda m: player(m, a)["zone"] == "ne")
    assert seen["you"]["id"] == b
    ann.send({"type": "move", "dx": 0, "dy": 0})
    wait_for(lambda: f"{a} 'Ann' crossed from nw into ne" in game.output(), what="the crossing logged")
    # Leaving: the other sees the player go; the connection closes.
    ann.send({"type": "leave"})
    assert ann.wait_closed() is None and ann.closed[0] == 1000
    bob.next("state", until=lambda m: len(m["players"]) == 1)
    bob.close()
    wait_for(lambda: f"{b} 'Bob' left zone ne (connection closed)" in game.output(), what="Bob left")


def test_the_server_enforces_the_speed_limit(game):
    ann, a = join("Ann")
    start = ann.next("state")
    t0, x0, y0 = time.monotonic(), player(start, a)["x"], player(start, a)["y"]
    ann.send({"type": "move", "dx": 1e6, "dy": 1e6})  # any length: a direction
    ann.send({"type": "goto", "x": 99, "y": 99})      # far away: walked to, not jumped to
    samples = []
    while time.monotonic() - t0 < 2:
        m = ann.recv(1)
        if m and m["type"] == "state":
            samples.append((time.monotonic() - t0, player(m, a)["x"], player(m, a)["y"]))
    assert len(samples) > 10, "states come as the player moves"
    t, x, y = samples[-1]
    distance = ((x - x0) ** 2 + (y - y0) ** 2) ** 0.5
    assert 5 * (t - 0.3) <= distance <= 5 * (t + 0.2), (t, distance)
    for (t1, xa, ya), (t2, xb, yb) in zip(samples, samples[1:]):
        assert ((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5 <= 5 * (t2 - t1) + 1.0  # never a jump


def test_hostile_input_closes_only_that_connection(game):
    ann, a = join("Ann")
    cases = [
        ("{", 400, "malformed JSON"),
        ("[1]", 400, "a message must be a JSON object"),
        (json.dumps({"type": "teleport", "x": 1}), 400, 'unknown message type "teleport"'),
        (json.dumps({"type": "move", "dx": "fast", "dy": 0}), 400, '"dx" must be a number'),
        (json.dumps({"type": "move", "dx": 1e300, "dy": 0}), 400, '"dx" must be a number from'),
        (json.dumps({"type": "join", "name": "x" * 40, "sip": "sip:x@h"}), 400, '"name" must be 1-32'),
        (json.dumps({"type": "join", "name": "ANN", "sip": "sip:other@h"}), 409, "the name 'Ann' is taken"),
        (json.dumps({"type": "join", "name": "Eve", "sip": "not a sip address"}), 400, "is not a SIP address"),
        (json.dumps({"type": "join", "name": "Eve"}), 400, "a SIP address is needed"),
        (json.dumps({"type": "move", "dx": 1, "dy": 0}), 400, "join first"),
        (json.dumps({"type": "leave", "pad": "x" * 5000}), 413, "message larger than 4096 bytes"),
    ]
    for text, code, reason in cases:
        ws = WebSocket()
        ws.send_text(text)
        error = ws.wait_closed()
        assert error and error["code"] == code and reason in error["reason"], (text[:60], error)
    # Beyond 64 KiB the WebSocket closes at once (1009); invalid UTF-8 in a text message: 1007.
    for payload, code in ((b"x" * 70000, 1009), (b'{"type":"\xff"}', 1007)):
        ws = WebSocket()
        ws.send_text(payload)
        ws.wait_closed()
        assert ws.closed[0] == code, ws.closed
    # Joined, then hostile: refused and gone from the world.
    eve, e = join("Eve")
    eve.send_text("{nope")
    assert eve.wait_closed()["code"] == 400
    ann.next("state", until=lambda m: [p["id"] for p in m["players"]] == [a])
    # Flooding: more than 30 messages a second on average.
    flood = WebSocket()
    flood.send({"type": "join", "name": "Flood", "sip": "sip:flood@h"})
    for _ in range(200):
        flood.send({"type": "move", "dx": 1, "dy": 0})
    error = flood.wait_closed()
    assert error and error["code"] == 429, error
    # Ann was never disturbed.
    ann.send({"type": "goto", "x": 10, "y": 10})
    ann.next("state", timeout=10, until=lambda m: player(m, a)["x"] == 10 and player(m, a)["y"] == 10)
    assert game.alive()


def test_a_connection_that_does_not_join_is_closed_after_10_s(game):
    idle = WebSocket()
    t0 = time.monotonic()
    error = idle.wait_closed(timeout=15)
    assert error["code"] == 408 and error["reason"] == "no join within 10 s"
    assert 9.5 <= time.monotonic() - t0 <= 12


def test_a_full_zone_stops_players_at_its_line_and_connections_are_limited(tmp_path):
    world = """
name = "hall"
width = 20
height = 10
speed = 20

[[zones]]
name = "west"
width = 10
height = 10

[[zones]]
name = "east"
x = 10
width = 10
height = 10
max_players = 1
"""
    g = Game(tmp_path, "--max-connections", "3", world=world)
    try:
        ann, a = join("Ann")
        bob, b = join("Bob")  # east: full now
        assert player(bob.next("state"), b)["zone"] == "east"
        ann.send({"type": "goto", "x": 18, "y": 5})
        ann.next("state", until=lambda m: player(m, a)["x"] >= 9.99)
        time.sleep(0.5)  # still pushing east: stays at the line
        ann.send({"type": "move", "dx": 0, "dy": 1})
        state = ann.next("state", until=lambda m: player(m, a)["y"] > 6)
        assert player(state, a)["zone"] == "west" and 9.99 <= player(state, a)["x"] <= 10
        # Upgrades whose handshake fails (a version other than 13, no key) take no connection's place.
        for bad in ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8", "Sec-WebSocket-Version: 13"):
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", GAME), timeout=5) as s:
                    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{GAME}\r\nUpgrade: websocket\r\n"
                               f"Connection: Upgrade\r\n{bad}\r\n\r\n").encode())
                    assert b" 101 " not in s.recv(4096)
        third = WebSocket()
        assert third.closed is None
        fourth = WebSocket()
        assert fourth.closed and " 503 " in fourth.status, fourth.status
        third.close()
        bob.send({"type": "leave"})
        ann.send({"type": "move", "dx": 1, "dy": 0})
        ann.next("state", until=lambda m: m["you"]["zone"] == "east")
    finally:
        assert g.stop() == 0, g.output()


@pytest.mark.parametrize("args, world, error", [
    ((), 'name = "w"\nsped = 5\n', "{world}:2: sped: unknown key (did you mean 'speed'?)"),
    ((), "[[zones]]\nname = \"a\"\nwidth = 50\nheight = 100\n",
     "{world}:1: zones: no zone holds the point (75, 50): the zones must cover the whole world"),
    ((), "tick_ms = 1\n", "{world}:1: tick_ms: must be a whole number from 10 to 1000 ms, not 1"),
    ((), "speed = \n", "{world}:1:9: Error while parsing key-value pair: expected value"),
    (("--conference-host", "conf:x"), None, "--conference-host must be HOST or HOST:PORT"),
    (("--listen", "8081"), None, "--listen must be HOST:PORT"),
    (("--admin", "127.0.0.1:5081"), None, "--admin must be the conference server's admin API as http://HOST:PORT"),
    (("--admin", "http://127.0.0.1:5081", "--admin-token-file", "/nonexistent"), None,
     "--admin-token-file /nonexistent: cannot be read"),
])
def test_bad_settings_are_clear_errors_at_start(tmp_path, args, world, error):
    path = tmp_path / "world.toml"
    argv = [CONFAB, "game", *args] + ([] if "--listen" in args else ["--listen", f"127.0.0.1:{GAME}"])
    if world is not None:
        path.write_text(world)
        argv += ["--world", str(path)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and error.format(world=path) in r.stderr, r.stderr


def test_the_page_in_chromium_two_players_and_a_walk_into_another_zone(tmp_path):
    g = Game(tmp_path, world='name = "park"\nspeed = 25\n')
    try:
        r = subprocess.run(["node", str(BROWSER / "game.mjs"), "walk", f"http://127.0.0.1:{GAME}/"],
                           capture_output=True, text=True, timeout=120)
        log = r.stdout + r.stderr
        assert r.returncode == 0, log + g.output()[-3000:]
        assert "ann joined in nw" in log and "bob joined in ne" in log, log
        assert "ann walked into ne" in log and "bob saw ann in ne" in log, log
        assert "the other player's roster and hears: ok" in log, log
    finally:
        assert g.stop() == 0, g.output()


def test_the_page_in_firefox_a_walk_into_another_zone(tmp_path):
    g = Game(tmp_path, world='name = "park"\nspeed = 25\n')
    try:
        r = subprocess.run(["node", str(BROWSER / "game_firefox.mjs"), "walk", f"http://127.0.0.1:{GAME}/"],
                           capture_output=True, text=True, timeout=120)
        log = r.stdout + r.stderr
        assert r.returncode == 0 and "ann joined in nw" in log and "ann walked into ne" in log, log + g.output()[-3000:]
    finally:
        assert g.stop() == 0, g.output()


def drive_game(*args):
    r = subprocess.run(["node", str(BROWSER / "game.mjs"), *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_client_voice_the_page_joins_and_moves_the_call_through_the_players_service(tmp_path):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        desk = start(procs, Phone(tmp_path, "desk", 5176, "--auto-answer"))
        svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176"], web_api="127.0.0.1:5066"))
        assert svc.cli("approve", GAME_ORIGIN)[0] == 0
        game = start(procs, Game(tmp_path, "--conference-host", "127.0.0.1:5080", world=CLIENT_WORLD))
        rc, log = drive_game("voice", GAME_ORIGIN + "/")
        assert rc == 0, log + svc.output()[-3000:]
        assert "voice: on (in sip:world-nw@127.0.0.1:5080)" in log, log
        assert "roster: sip:alice@127.0.0.1:5062" in log, log  # the conference's roster, from the service
        assert "ann walked into ne" in log and "voice moved: on (in sip:world-ne@127.0.0.1:5080)" in log, log
        assert log.count("roster: ") == 2 and "left" in log, log
        # One call from the device's side: it was moved between the zones' conferences, not dialled again;
        # leaving the game hung it up.
        assert len(desk.events_named("incoming")) == 1
        wait_for(lambda: not conf.conferences(), what="the call hung up")
        assert "world-ne" in conf.output() and not game.output().count("error")
    finally:
        stop_all(*reversed(procs))


def test_client_voice_says_what_went_wrong(tmp_path):
    procs = []
    try:
        start(procs, Game(tmp_path, "--conference-host", "127.0.0.1:5080", world=CLIENT_WORLD))
        # No service running.
        rc, log = drive_game("voice", GAME_ORIGIN + "/")
        assert rc == 0 and "voice: failed (Your Confab service is not running (nothing answers at " \
                           "ws://127.0.0.1:5066/api). Start it with `confab service`" in log, log
        # A service that has not approved the game's origin.
        fake = tmp_path / "bin"
        fake.mkdir()
        (fake / "zenity").write_text("#!/bin/sh\nexit 1\n")  # the user declines in the desktop dialog
        (fake / "zenity").chmod(0o755)
        svc = start(procs, Service(tmp_path, devices=["desk=sip:desk@127.0.0.1:5176", "other=sip:o@127.0.0.1:5178"],
                                   web_api="127.0.0.1:5066",
                                   env={"DISPLAY": ":99", "PATH": f"{fake}:{os.environ['PATH']}"}))
        rc, log = drive_game("voice", GAME_ORIGIN + "/")
        assert rc == 0 and f"its origin {GAME_ORIGIN} is not approved" in log \
            and f"`confab approve {GAME_ORIGIN}`" in log and "`confab chooser`" in log, log
        # Approved, but the browser's Local Network Access permission is refused (the page counts as public).
        assert svc.cli("approve", GAME_ORIGIN)[0] == 0
        rc, log = drive_game("voice", GAME_ORIGIN + "/", "--lna-denied")
        assert rc == 0 and "voice: failed (Your browser does not let this page reach your computer " \
                           "(Local Network Access was refused)" in log, log
        # Reached and approved: the user declines the device choice.
        rc, log = drive_game("voice", GAME_ORIGIN + "/")
        assert rc == 0 and "voice: failed (You declined the device choice" in log, log
    finally:
        stop_all(*reversed(procs))


# ---- voice through the conference server (world voice = "server") ----

SERVER_WORLD = 'name = "w"\nspeed = 25\nproximity_m = 0\n'


def voice_network(tmp_path, procs, world, phones):
    """A mixer, a conference server with its admin API, the game with the server
    voice, and one auto-answering phone per (name, port, tone)."""
    start(procs, Mixer(tmp_path))
    conf = start(procs, Conference(tmp_path))
    token = tmp_path / "admin-token"
    token.write_text("secret\n")
    started = {name: start(procs, Phone(tmp_path, name, port, "--auto-answer", "--tone", str(tone), "--volume", "0.2"))
               for name, port, tone in phones}
    game = start(procs, Game(tmp_path, "--conference-host", "127.0.0.1:5080", "--admin", "http://127.0.0.1:5081",
                             "--admin-token-file", str(token), world=world))
    return conf, game, started


def levels_db(record, freqs, start_ms, end_ms):
    """Median level (dBFS) of each tone in a window of a recording."""
    import numpy as np
    from confab_testlib import read_wav, tone_levels_db
    x, rate = read_wav(record)
    x = x[int(start_ms * rate / 1000):int(end_ms * rate / 1000)]
    return {f: float(np.median(v)) for f, v in tone_levels_db(x, rate, freqs, 20).items()}


def play_the_papers_scene(conf, game, phones, sips, services=()):
    """Drives the scene (tests/browser/game.mjs scene): returns, per phone, the
    recording times before and after Ann's crossing, and when it crossed."""
    driver = subprocess.Popen(["node", str(BROWSER / "game.mjs"), "scene", GAME_ORIGIN + "/", sips["ann"], sips["bob"],
                               sips["cat"], *services], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    lines = []

    def line_starting(word):
        for line in driver.stdout:
            lines.append(line)
            if line.startswith(word):
                return line
            assert not line.startswith("FAILED"), "".join(lines) + game.output()[-3000:]
        raise AssertionError("the driver ended:\n" + "".join(lines) + game.output()[-3000:])

    def in_conferences():
        return {i: sorted(p["uri"] for p in c["participants"]) for i, c in conf.conferences().items()}

    try:
        ready = json.loads(line_starting("ready ").split(" ", 1)[1])
        assert ready["ann"]["zone"] == ready["bob"]["zone"] == "nw" and ready["cat"]["zone"] == "sw", ready
        assert in_conferences() == {"w-nw": sorted([sips["ann"], sips["bob"]]), "w-sw": [sips["cat"]]}
        assert ready["ann"]["roster"] == in_conferences()["w-nw"] and ready["cat"]["roster"] == [sips["cat"]], ready
        before = {n: p.clock_ms() for n, p in phones.items()}
        for p in phones.values():
            p.record_until(p.clock_ms() + 2500)
        driver.stdin.write("walk\n")
        driver.stdin.flush()
        crossed_epoch = int(line_starting("ann crossed into sw at ").split()[-1])
        after_pages = json.loads(line_starting("after ").split(" ", 1)[1])
        assert after_pages["ann"]["zone"] == "sw" and after_pages["bob"]["roster"] == [sips["bob"]], after_pages
        assert in_conferences() == {"w-nw": [sips["bob"]], "w-sw": sorted([sips["ann"], sips["cat"]])}
        assert after_pages["ann"]["roster"] == after_pages["cat"]["roster"] == in_conferences()["w-sw"], after_pages
        after = {n: p.clock_ms() for n, p in phones.items()}
        for p in phones.values():
            p.record_until(p.clock_ms() + 2500)
        # What Ann's phone went through, before the players leave (leaving hangs up).
        ann_calls = {e: len(phones["ann"].events_named(e)) for e in ("incoming", "reinvite", "terminated")}
        driver.stdin.write("done\n")
        driver.stdin.flush()
        assert driver.wait(20) == 0, "".join(lines)
        return before, after, crossed_epoch - phones["ann"].epoch_ms(), ann_calls
    finally:
        if driver.poll() is None:
            driver.kill()


def check_the_papers_scene(phones, before, after, crossed_at):
    heard = {when: {n: levels_db(p.record, [500, 700, 900], t[n] + 300, t[n] + 2300) for n, p in phones.items()}
             for when, t in (("before", before), ("after", after))}
    b, a = heard["before"], heard["after"]
    assert b["ann"][700] > -40 and b["ann"][900] < -60, b  # Ann hears Bob, not Cat
    assert b["bob"][500] > -40 and b["bob"][900] < -60, b
    assert b["cat"][500] < -60 and b["cat"][700] < -60, b  # Cat hears nobody
    assert a["ann"][900] > -40 and a["ann"][700] < -60, a  # Ann hears Cat now, not Bob
    assert a["cat"][500] > -40, a
    assert a["bob"][500] < -60 and a["bob"][900] < -60, a  # Bob hears nobody
    # Around the crossing Ann's audio goes from Bob's tone to Cat's with no gap over 20 ms.
    gap, _ = switch_gap_ms(phones["ann"].record, crossed_at - 300, 700, 900)
    assert gap <= 20, f"gap {gap} ms around the crossing"


def test_server_voice_the_papers_scene(tmp_path):
    """Ann and Bob in one quadrant hear each other and not Cat; Ann walks (keys in her
    page) into Cat's quadrant: now Ann and Cat hear each other and Bob hears nobody,
    with no gap over 20 ms in Ann's audio, no re-INVITE and no BYE to her phone, and
    each page's roster as the conference has it."""
    procs = []
    sips = {"ann": "sip:ann@127.0.0.1:5172", "bob": "sip:bob@127.0.0.1:5174", "cat": "sip:cat@127.0.0.1:5176"}
    try:
        conf, game, phones = voice_network(tmp_path, procs, SERVER_WORLD,
                                           [("ann", 5172, 500), ("bob", 5174, 700), ("cat", 5176, 900)])
        before, after, crossed_at, ann_calls = play_the_papers_scene(conf, game, phones, sips)
        # One call to Ann's phone, never re-INVITEd (the mixer moved its leg), never hung up.
        assert ann_calls == {"incoming": 1, "reinvite": 0, "terminated": 0}, ann_calls
    finally:
        stop_all(*reversed(procs))
    check_the_papers_scene(phones, before, after, crossed_at)


def test_client_voice_the_papers_scene(tmp_path):
    """The same scene with each page driving its player's own Confab service
    (ExternalJoin, then SameDeviceJoin on the crossing): the same hearing, no gap,
    no BYE to Ann's device."""
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        phones, sips, services = {}, {}, []
        for i, (name, tone) in enumerate((("ann", 500), ("bob", 700), ("cat", 900))):
            phones[name] = start(procs, Phone(tmp_path, name, 5172 + 2 * i, "--auto-answer", "--tone", str(tone),
                                              "--volume", "0.2"))
            svc = start(procs, Service(tmp_path, sip_port=6062 + 2 * i, devices=[f"desk=sip:{name}@127.0.0.1:{5172 + 2 * i}"],
                                       web_api=f"127.0.0.1:{6166 + i}", name=f"service-{name}"))
            assert svc.cli("approve", GAME_ORIGIN)[0] == 0
            sips[name] = f"sip:alice@127.0.0.1:{6062 + 2 * i}"  # the service's identity is the participant
            services.append(f"ws://127.0.0.1:{6166 + i}/api")
        game = start(procs, Game(tmp_path, "--conference-host", "127.0.0.1:5080",
                                 world='name = "w"\nspeed = 25\nvoice = "client"\n'))
        before, after, crossed_at, ann_calls = play_the_papers_scene(conf, game, phones, sips, services)
        assert ann_calls["incoming"] == 1 and ann_calls["terminated"] == 0, ann_calls
    finally:
        stop_all(*reversed(procs))
    check_the_papers_scene(phones, before, after, crossed_at)


def my_voice(ws, state, timeout=15.0):
    """The last state message if this player's voice is `state` there, else the next such one."""
    last = ws.last.get("state")
    if last and last["you"]["voice"]["state"] == state:
        return last
    return ws.next("state", timeout, until=lambda m: m["you"]["voice"]["state"] == state)


def test_server_voice_survives_a_conference_server_that_is_down_and_a_phone_that_hangs_up(tmp_path):
    """With no conference server the game goes on and shows voice off, and retries: once
    the server is up the player's phone is called. A phone that hangs up leaves the player
    in the game with voice off; "call again" calls it again. A wrong admin token is a
    clear error at start."""
    procs = []
    token = tmp_path / "admin-token"
    token.write_text("secret\n")
    try:
        ann = start(procs, Phone(tmp_path, "ann", 5172, "--auto-answer", "--tone", "500"))
        game = start(procs, Game(tmp_path, "--conference-host", "127.0.0.1:5080", "--admin", "http://127.0.0.1:5081",
                                 "--admin-token-file", str(token), world=SERVER_WORLD))
        assert "does not answer" in game.output()
        ws, pid = join("Ann", "sip:ann@127.0.0.1:5172")
        voice = my_voice(ws, "failed")["you"]["voice"]
        assert "retrying" in voice["reason"], voice
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        my_voice(ws, "on", timeout=20)  # the next retry reaches the conference server
        ann.wait_event("media")
        assert [p["uri"] for c in conf.conferences().values() for p in c["participants"]] == ["sip:ann@127.0.0.1:5172"]
        ann.send("hangup")
        off = my_voice(ws, "off")
        assert off["you"]["voice"]["reason"] == "the call ended", off
        assert player(off, pid)["voice"] == "off"  # still in the game, its voice shown off
        ws.send({"type": "call_again"})
        my_voice(ws, "on")
        assert len(ann.events_named("incoming")) == 2
        ws.close()
    finally:
        stop_all(*reversed(procs))
    bad = tmp_path / "wrong-token"
    bad.write_text("guess\n")
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        r = subprocess.run([CONFAB, "game", "--conference-host", "127.0.0.1:5080", "--admin", "http://127.0.0.1:5081",
                            "--admin-token-file", str(bad)], capture_output=True, text=True, timeout=20)
        assert r.returncode == 1 and "refused the token (401): check --admin-token-file" in r.stderr, r.stderr
    finally:
        stop_all(*reversed(procs))


def test_server_voice_metrics_count_the_crossings_and_time_the_moves(tmp_path):
    """GET /metrics: every crossing is counted, and so is the admin move that follows
    it, timed from the crossing's tick to the move's answer."""
    procs = []
    ann_sip = "sip:ann@127.0.0.1:5172"
    try:
        conf, game, _ = voice_network(tmp_path, procs, SERVER_WORLD, [("ann", 5172, 500)])

        def metrics():
            return json.loads(game.get("/metrics")[2])

        def in_conference(zone):
            return [p["uri"] for p in conf.conferences().get(f"w-{zone}", {}).get("participants", [])] == [ann_sip]

        assert metrics() == {"players": 0, "connections": 0, "crossings": 0, "moves": 0, "move_failures": 0,
                             "move_ms": {"p50": 0, "p99": 0, "max": 0}}
        ws, _ = join("Ann", ann_sip)
        my_voice(ws, "on")
        wait_for(lambda: in_conference("nw"), what="Ann in zone nw's conference")
        for x, zone in ((75, "ne"), (25, "nw")):  # over the line and back
            ws.send({"type": "goto", "x": x, "y": 25})
            ws.next("state", timeout=10, until=lambda m: m["you"]["zone"] == zone)
            wait_for(lambda: in_conference(zone), what=f"Ann moved into zone {zone}'s conference")
        m = wait_for(lambda: (lambda m: m if m["moves"] == 2 else None)(metrics()), what="both moves counted")
        assert m["players"] == 1 and m["connections"] == 1 and m["crossings"] == 2 and m["move_failures"] == 0, m
        assert 0 < m["move_ms"]["p50"] <= m["move_ms"]["p99"] <= m["move_ms"]["max"] < 3000, m
        ws.close()
    finally:
        stop_all(*reversed(procs))


def goto_and_wait(ws, pid, x, y, timeout=15.0):
    """Sends the player to (x, y) and waits for a state showing it there."""
    ws.send({"type": "goto", "x": x, "y": y})
    return ws.next("state", timeout, until=lambda m: abs(player(m, pid)["x"] - x) < 0.01
                   and abs(player(m, pid)["y"] - y) < 0.01)


def test_server_voice_a_player_near_a_line_hears_the_next_zone_fading_with_distance(tmp_path):
    """Ann 1 m from the line between nw and ne hears ne at the configured gain (-6 dB at
    the line, -60 dB at 10 m: -11.4 dB), within 3 dB, on top of her own zone. Walking from
    10 m before the line to 10 m after it, her recording shows her old zone's tone fall
    and the new one's rise, with no 20 ms window of silence."""
    procs = []
    try:
        conf, game, ph = voice_network(tmp_path, procs, 'name = "w"\nspeed = 10\n',
                                       [("ann", 5172, 500), ("bob", 5174, 700), ("dan", 5176, 600)])
        ann, a = join("Ann", "sip:ann@127.0.0.1:5172")   # spawns in nw
        bob, b = join("Bob", "sip:bob@127.0.0.1:5174")   # ne
        dan, d = join("Dan", "sip:dan@127.0.0.1:5176")   # sw, walks into nw
        goto_and_wait(bob, b, 90, 25)
        goto_and_wait(dan, d, 10, 25)
        near = goto_and_wait(ann, a, 49, 25)
        for ws in (ann, bob, dan):
            my_voice(ws, "on")
        near = ann.last["state"]
        db = near["you"]["hears"][1]["db"]
        assert abs(db - (-6 + (-54) * 1 / 10)) < 0.2, near["you"]
        wait_for(lambda: any(l["listening"] for c in conf.conferences().values() for l in c["participants"]),
                 what="the listen link at the conference server")
        near_at = ph["ann"].clock_ms()
        ph["ann"].record_until(near_at + 2500)
        goto_and_wait(ann, a, 40, 25)
        wait_for(lambda: not any(l["listening"] for c in conf.conferences().values() for l in c["participants"]
                                 if l["uri"] == "sip:ann@127.0.0.1:5172"), what="ann out of hearing of ne")
        walk_from = ph["ann"].clock_ms()
        goto_and_wait(ann, a, 60, 25)  # 20 m at 10 m/s
        walk_to = ph["ann"].clock_ms()
        ph["ann"].record_until(walk_to + 500)
    finally:
        stop_all(*reversed(procs))
    heard = levels_db(ph["ann"].record, [600, 700], near_at + 300, near_at + 2300)
    assert heard[600] > -40, heard
    assert abs((heard[700] - heard[600]) - (-11.4)) <= 3, heard  # ne at its gain, relative to her own zone
    import numpy as np
    from confab_testlib import read_wav, tone_levels_db
    x, rate = read_wav(ph["ann"].record)
    x = x[int(walk_from * rate / 1000):int(walk_to * rate / 1000)]
    levels = tone_levels_db(x, rate, [600, 700], 20)
    third = len(levels[600]) // 3
    old_start, old_end = np.median(levels[600][:third]), np.median(levels[600][-third:])
    new_start, new_end = np.median(levels[700][:third]), np.median(levels[700][-third:])
    assert old_start > old_end + 3 and new_end > new_start + 20, (old_start, old_end, new_start, new_end)
    loudest = np.maximum(levels[600], levels[700])
    assert loudest.min() > -45, f"a 20 ms window of silence in the walk: {loudest.min():.1f} dB"
