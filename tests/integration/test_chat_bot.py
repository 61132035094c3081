"""confab chat-bot against real peers: Prosody (xmpp_server.py) as the XMPP server,
slixmpp (Debian's python3-slixmpp) as the people in the room, the conference server
and mixer, and `confab phone` devices with their own tones. The room opens a voice
room, sees who joins and leaves in order, asks who is in it, invites a member
whose phone rings and then hears the other phone (audio by content), is told when
an invited phone refuses, sees an empty voice room closed, gets usage lines for bad
and hostile commands, is rate limited without losing lines; the bot rejoins after the
XMPP server restarts and still answers, takes another nick when its own is taken, and
says why a wrong password fails while it keeps trying."""
import asyncio
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from confab_testlib import CONFAB, Conference, Mixer, Phone, Proc, port_is_bound, read_wav, start, stop_all, \
    tone_levels_db, wait_for
from xmpp_server import start_prosody

BOT_SIP = 5079
BOB_PHONE, CAROL_PHONE = 5302, 5304
BOB_TONE, CAROL_TONE = 700, 500
USAGE = "usage: /voice [NAME] | /voice who | /voice invite NICK"


class ChatUser:
    """A person in the room: a slixmpp client on its own asyncio thread, keeping
    every groupchat line it sees (nick, body, time) and who is in the room."""

    def __init__(self, server, user, nick, room):
        import slixmpp
        self.nick, self.room = nick, room
        self.lines, self.occupants = [], set()
        self.joined = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def make():
            client = slixmpp.ClientXMPP(server.jid(user), server.users[user])
            client.register_plugin("xep_0045")
            client.add_event_handler("session_start", self._session_start)
            client.add_event_handler("groupchat_message", self._message)
            client.add_event_handler("groupchat_presence", self._presence)
            client.connect(address=("127.0.0.1", server.c2s_port), disable_starttls=True, force_starttls=False)
            return client
        self.client = asyncio.run_coroutine_threadsafe(make(), self.loop).result(10)
        assert self.joined.wait(15), f"{nick} could not join {room}"

    async def _session_start(self, _):
        self.client.send_presence()
        await self.client.plugin["xep_0045"].join_muc_wait(self.room, self.nick, maxstanzas=0, timeout=10)
        self.joined.set()

    def _message(self, m):
        self.lines.append((m["mucnick"], m["body"], time.monotonic()))

    def _presence(self, p):
        nick = p["muc"]["nick"]
        if p["type"] == "unavailable":
            self.occupants.discard(nick)
        else:
            self.occupants.add(nick)

    def say(self, text):
        self.loop.call_soon_threadsafe(
            lambda: self.client.send_message(mto=self.room, mbody=text, mtype="groupchat"))

    def bot_lines(self, bot="confab"):
        return [body for nick, body, _ in list(self.lines) if nick == bot]

    def wait_bot_line(self, pattern, after=0, timeout=10, bot="confab"):
        """The first line of the bot after its `after` first lines matching `pattern` (a regex); returns
        (its index among the bot's lines, the match)."""
        found = []

        def seen():
            for i, body in enumerate(self.bot_lines(bot)[after:], after):
                m = re.search(pattern, body)
                if m:
                    found.append((i, m))
                    return True
            return False
        wait_for(seen, timeout=timeout, what=f"the bot to post /{pattern}/ (after line {after})",
                 state=lambda: self.bot_lines(bot)[after:])
        return found[0]

    def close(self):
        async def bye():
            try:
                await asyncio.wait_for(self.client.disconnect(wait=1.0), 3)
            except Exception:
                pass
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        try:
            asyncio.run_coroutine_threadsafe(bye(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class ChatBot(Proc):
    def __init__(self, tmp_path, server, room, addresses, *extra, password=None):
        pw = Path(tmp_path) / "bot.password"
        pw.write_text((password or server.users["bot"]) + "\n")
        config = Path(tmp_path) / "bot.toml"
        config.write_text("[chat_bot]\nidle_seconds = 4\n[chat_bot.addresses]\n" +
                          "".join(f'"{k}" = "{v}"\n' for k, v in addresses.items()))
        assert not port_is_bound(BOT_SIP), f"port {BOT_SIP} is already in use"
        super().__init__([CONFAB, "chat-bot", "--config", config, "--jid", server.jid("bot"), "--password-file", pw,
                          "--room", room, "--conference-host", "127.0.0.1:5080",
                          "--xmpp-server", f"127.0.0.1:{server.c2s_port}", "--sip", f"127.0.0.1:{BOT_SIP}", *extra],
                         Path(tmp_path) / "chat-bot.log")


def levels_db(record, freqs, start_ms, end_ms):
    import numpy as np
    x, rate = read_wav(record)
    x = x[int(start_ms * rate / 1000):int(end_ms * rate / 1000)]
    return {f: float(np.median(v)) for f, v in tone_levels_db(x, rate, freqs, 20).items()}


@pytest.fixture
def network(tmp_path):
    """Prosody with the bot and three people, the mixer, the conference server, Bob's and Carol's
    phones, the bot, and Alice, B(ob) and Carol in the room team@conference.chat.test."""
    procs, users = [], []
    server = start_prosody(tmp_path, users={"bot": "bot-pw", "alice": "a-pw", "bob": "b-pw", "carol": "c-pw"})
    room = server.room_jid("team")
    try:
        start(procs, Mixer(tmp_path))
        start(procs, Conference(tmp_path))
        bob = start(procs, Phone(tmp_path, "bob", BOB_PHONE, "--from", f"sip:bob@127.0.0.1:{BOB_PHONE}",
                                 "--tone", str(BOB_TONE), "--volume", "0.2"))
        carol = start(procs, Phone(tmp_path, "carol", CAROL_PHONE, "--from", f"sip:carol@127.0.0.1:{CAROL_PHONE}",
                                   "--auto-answer", "--tone", str(CAROL_TONE), "--volume", "0.2"))
        bot = start(procs, ChatBot(tmp_path, server, room, {
            server.jid("bob"): f"sip:bob@127.0.0.1:{BOB_PHONE}",
            server.jid("carol"): f"sip:carol@127.0.0.1:{CAROL_PHONE}"}))
        people = {}
        for user, nick in (("alice", "Alice"), ("bob", "B"), ("carol", "Carol")):
            people[nick] = ChatUser(server, user, nick, room)
            users.append(people[nick])
        wait_for(lambda: "confab" in people["Alice"].occupants or not bot.alive(), timeout=15,
                 what="the bot in the room", state=lambda: bot.output()[-2000:])
        assert bot.alive(), bot.output()
        yield server, room, bot, people, bob, carol, users
    finally:
        for u in users:
            u.close()
        stop_all(*procs)
        server.stop()


def test_the_room_opens_follows_and_invites_into_its_voice_room(network, tmp_path):
    server, room, bot, people, bob, carol, users = network
    alice = people["Alice"]

    # /voice opens a voice room with a random name: its sip: link and conf: shorthand.
    alice.say("/voice")
    n, m = alice.wait_bot_line(r"Voice room: (sip:(voice-[0-9a-f]{8})@127\.0\.0\.1:5080) \(conf:(voice-[0-9a-f]{8})\)")
    uri, name = m.group(1), m.group(2)
    assert m.group(3) == name
    alice.say("/voice who")
    n, _ = alice.wait_bot_line(rf"^Nobody is in the voice room {name}\.$", after=n + 1)

    # B's phone follows the link: the room sees it, under B's nick (its JID's mapped address).
    bob.send(f"dial {uri}")
    bob.wait_event("answered")
    n, _ = alice.wait_bot_line(r"^B joined the voice room$", after=n + 1, timeout=10)
    alice.say("/voice who")
    n, _ = alice.wait_bot_line(rf"^In the voice room {name}: B$", after=n + 1)

    # /voice invite Carol: the conference calls Carol's mapped phone, which answers; she hears B's tone.
    alice.say("/voice invite Carol")
    alice.say("/voice invite Carol")  # again while her phone rings (or once she is in): it rings once
    n, _ = alice.wait_bot_line(rf"^Calling Carol into the voice room {name}\.$", after=n + 1)
    n, _ = alice.wait_bot_line(r"^Carol is (being called|in the voice room) already\.$", after=n + 1)
    carol.wait_event("incoming", timeout=10)
    n, _ = alice.wait_bot_line(r"^Carol joined the voice room$", after=n + 1, timeout=10)
    alice.say("/voice who")
    n, _ = alice.wait_bot_line(rf"^In the voice room {name}: B, Carol$", after=n + 1)
    t_carol, t_bob = carol.clock_ms(), bob.clock_ms()
    carol.record_until(t_carol + 2500)
    bob.record_until(t_bob + 2500)

    # B hangs up: "left" comes after "joined", in order.
    bob.send("hangup")
    n, _ = alice.wait_bot_line(r"^B left the voice room$", after=n + 1, timeout=10)
    lines = alice.bot_lines()
    order = [l for l in lines if l.endswith("the voice room")]
    assert order == ["B joined the voice room", "Carol joined the voice room", "B left the voice room"], lines

    # Everyone in the room saw the same lines.
    wait_for(lambda: people["Carol"].bot_lines()[:n + 1] == lines[:n + 1], what="Carol's view of the room")

    # The XMPP server restarts: the bot joins the room again and still knows its voice room.
    for u in users:
        u.close()
    users.clear()
    server.restart()
    alice = ChatUser(server, "alice", "Alice", room)
    users.append(alice)
    wait_for(lambda: "confab" in alice.occupants, timeout=20, what="the bot back in the room",
             state=lambda: bot.output()[-2000:])
    alice.say("/voice who")
    alice.wait_bot_line(rf"^In the voice room {name}: Carol$", timeout=10)
    carol.send("hangup")
    n, _ = alice.wait_bot_line(r"^Carol left the voice room$", timeout=10)

    # The conference ended with its last participant; the bot keeps following the voice room (its roster
    # subscription is refused until someone calls in again): B's phone comes back, and the room sees it,
    # named by B's JID now that B is no longer in the chat room.
    bob.send(f"dial {uri}")
    n, _ = alice.wait_bot_line(r"^bob joined the voice room$", after=n + 1, timeout=10)
    bob.send("hangup")
    n, _ = alice.wait_bot_line(r"^bob left the voice room$", after=n + 1, timeout=10)
    # Empty for idle_seconds (4 here): closed.
    n, _ = alice.wait_bot_line(rf"^The voice room {name} was empty and is closed\.$", after=n + 1, timeout=10)
    alice.say("/voice who")
    alice.wait_bot_line(r"^No voice room is open: /voice opens one\.$", after=n + 1)
    assert "error" not in bot.output(), bot.output()
    assert bot.stop() == 0, bot.output()

    # What the phones heard while both were in (the recordings are complete once the phones quit).
    carol.quit()
    bob.quit()
    assert len(carol.events_named("incoming")) == 1, carol.events()
    heard = levels_db(carol.record, [BOB_TONE, CAROL_TONE], t_carol + 300, t_carol + 2300)
    assert heard[BOB_TONE] > -40 and heard[CAROL_TONE] < -60, heard  # Carol hears B, not herself
    heard = levels_db(bob.record, [BOB_TONE, CAROL_TONE], t_bob + 300, t_bob + 2300)
    assert heard[CAROL_TONE] > -40 and heard[BOB_TONE] < -60, heard


def test_bad_and_hostile_commands_get_a_usage_line_and_nothing_breaks(network):
    server, room, bot, people, bob, carol, users = network
    alice = people["Alice"]
    n = 0
    for command, reply in [
        ("/voice a b", "one word after /voice, please. " + USAGE),
        ("/voice <script>alert(1)</script>", "a voice room name is 1-64 letters, digits and - _ . ~ +. " + USAGE),
        ("/voice invite", "invite whom? " + USAGE),
        ("/voice help", USAGE),
        ("/voice invite <b>Zoë</b> 🎧\u202e\u200b&amp;", "<b>Zoë</b> 🎧&amp; is not in this room."),
        ("/voice invite Alice", "I have no SIP address for Alice (the bot's [chat_bot.addresses] maps JIDs to them)."),
        ("/voice " + "x" * 200_000, "that command is too long. " + USAGE),
    ]:
        alice.say(command)
        n, m = alice.wait_bot_line("^" + re.escape(reply) + "$", after=n)
        n += 1
    # Not for the bot: no answer (a huge one, markup, a lookalike); the next command is still answered.
    alice.say("x" * 200_000)
    alice.say("<message><body>/voice</body></message>")
    alice.say("/voicemail")
    alice.say("/voice who")
    alice.wait_bot_line(r"^No voice room is open: /voice opens one\.$", after=n)
    assert len(alice.bot_lines()) == n + 1, alice.bot_lines()[n:]  # one answer per command, no loop on its own lines

    # An invitation the phone refuses: the room is told, and B never "joined" (it was only ringing).
    alice.say("/voice invite B")
    n, _ = alice.wait_bot_line(r"^Calling B into the voice room voice-[0-9a-f]{8}\.$", after=n + 1)
    bob.wait_event("incoming", timeout=10)
    bob.send("hangup")
    n, _ = alice.wait_bot_line(r"^The voice room could not reach B \([4-6][0-9][0-9] [^)]*\)\.$", after=n + 1)
    assert not any("joined" in l for l in alice.bot_lines()), alice.bot_lines()

    # Many commands at once: every answer comes, in order, but at most a few lines a second.
    for i in range(12):
        alice.say(f"/voice room{i}")
    wait_for(lambda: len(alice.bot_lines()) >= n + 1 + 12, timeout=15, what="12 answers",
             state=lambda: alice.bot_lines()[n + 1:])
    answers = alice.bot_lines()[n + 1:n + 13]
    assert answers == [f"Voice room: sip:room{i}@127.0.0.1:5080 (conf:room{i})" for i in range(12)], answers
    times = [t for nick, _, t in alice.lines if nick == "confab"][n + 1:n + 13]
    worst = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert worst <= 5 + 3, f"{worst} lines within one second: {[round(t - times[0], 2) for t in times]}"
    assert times[-1] - times[0] >= (12 - 5) / 3 - 0.3, [round(t - times[0], 2) for t in times]
    assert bot.alive(), bot.output()


@pytest.mark.parametrize("args,error", [
    (["--jid", "bot"], "--jid must be the bot's account"),
    (["--room", "team"], "--room must be the room's JID"),
    (["--password-file", "/nonexistent/pw"], "--password-file /nonexistent/pw: cannot be read"),
    (["--conference-host", ""], "--conference-host is required"),
    (["--xmpp-server", "localhost"], "--xmpp-server must be HOST:PORT"),
])
def test_bad_settings_are_clear_errors_at_start(tmp_path, args, error):
    pw = tmp_path / "pw"
    pw.write_text("x\n")
    base = {"--jid": "bot@chat.test", "--password-file": str(pw), "--room": "team@conference.chat.test",
            "--conference-host": "127.0.0.1:5080", "--xmpp-server": "127.0.0.1:5222"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = [CONFAB, "chat-bot", "--sip", "127.0.0.1:0"] + [x for kv in base.items() for x in kv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and error in r.stderr, (r.returncode, r.stderr)


def test_a_taken_nick_and_a_wrong_password(tmp_path):
    """The bot's nick is taken: it joins as nick_ and answers. A wrong password: a log line that says
    so, and it keeps trying (a password fixed on the server later lets it in)."""
    server = start_prosody(tmp_path, users={"bot": "bot-pw", "alice": "a-pw"})
    room = server.room_jid("team")
    users, bot = [], None
    try:
        squatter = ChatUser(server, "alice", "confab", room)
        users.append(squatter)
        bot = ChatBot(tmp_path, server, room, {})
        wait_for(lambda: "confab_" in squatter.occupants or not bot.alive(), timeout=15, what="the bot as confab_",
                 state=lambda: bot.output()[-2000:])
        squatter.say("/voice help")
        squatter.wait_bot_line("^" + re.escape(USAGE) + "$", bot="confab_")
        assert bot.stop() == 0, bot.output()
        wait_for(lambda: "confab_" not in squatter.occupants, what="the bot out of the room")

        bot = ChatBot(tmp_path, server, room, {}, password="not-the-password")
        wait_for(lambda: "Cannot authenticate" in bot.output() or not bot.alive(), timeout=10,
                 what="the authentication failure in the log", state=lambda: bot.output()[-2000:])
        assert bot.alive(), bot.output()
        server.add_user("bot", "not-the-password")  # the account's password changed to the bot's
        wait_for(lambda: "confab_" in squatter.occupants or not bot.alive(), timeout=15,
                 what="the bot in the room after the fix", state=lambda: bot.output()[-2000:])
        assert bot.stop() == 0, bot.output()
    finally:
        for u in users:
            u.close()
        if bot:
            bot.stop()
        server.stop()
