"""`confab demo` (what scripts/demo runs) starts on loopback: three phones join an
ad-hoc conference through the proxy, each hears the other two and not itself, and
the roster the conference event package reports lists all three; then the client
service joins "you" on the desk phone and moves the call to the lobby (Replaces),
with roster events, and the desk phone hears the demo room, then only the lobby;
the game server serves its page and its three bots are in its zones' conferences;
the web site serves the example film-fans forum at the URL it prints, and a bot
phone is in the room of /films/dune."""
import json
from pathlib import Path
import re
import signal
import subprocess
import urllib.request

from confab_testlib import CONFAB, WebSocket, wait_for


def test_demo_runs_and_each_phone_hears_the_others(tmp_path):
    log = tmp_path / "demo.out"
    with open(log, "wb") as out:
        demo = subprocess.Popen([CONFAB, "demo", "--dir", tmp_path / "demo"], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for(lambda: "Try it with any SIP phone" in log.read_text(errors="replace"), timeout=40,
                 what="the demo's instructions")
        # The game: its page, and its three bots in the zones' conferences (the server voice called their phones).
        with urllib.request.urlopen("http://127.0.0.1:8081/", timeout=5) as r:
            assert r.status == 200 and b'<canvas id="map"' in r.read()
        bots = {f"sip:{b}@127.0.0.1:{p}" for b, p in (("red", 5186), ("green", 5188), ("blue", 5190))}

        def in_zones():
            with urllib.request.urlopen("http://127.0.0.1:5081/conferences", timeout=5) as r:
                conferences = json.load(r)["conferences"]
            return {p["uri"] for c in conferences if c["id"].startswith("world-") for p in c["participants"]}
        wait_for(lambda: in_zones() == bots, timeout=20, what="the bots in the zones' conferences", state=in_zones)
        # The web site: the URL it prints serves the example site, its pages mapped to conferences.
        url = re.search(r"Web site: (http://\S+/)", log.read_text()).group(1)
        assert url == "http://127.0.0.1:8080/", url
        with urllib.request.urlopen(url + "films/dune", timeout=5) as r:
            page = r.read().decode()
            assert r.status == 200 and "Reel Talk" in page and "<h1>Dune (2021)</h1>" in page, page
            assert 'content="sip:web-films-dune@127.0.0.1:5080"' in page, page
        with urllib.request.urlopen(url + "_confab/page?path=/films/arrival", timeout=5) as r:
            assert json.load(r)["conference"] == "sip:web-heptapods@127.0.0.1:5080"
        # Its two bot viewers: eve in the room of /films/dune, as the page's roster WebSocket says.
        viewer = WebSocket(8080, "/_confab/roster?path=/films/dune")
        roster = viewer.next("roster", timeout=20, until=lambda m: m["members"])
        assert [m["uri"] for m in roster["members"]] == ["sip:eve@confab.local"], roster
        viewer.close()
        # Chat links: the extension's folder it names, and the page with a conf: line to try it on.
        chat = re.search(r"unpacked from (\S+)\n(?:.*\n)*?\s+open (http://\S+/meetups): conf:(\w+) there is a link",
                         log.read_text())
        assert chat and (Path(chat.group(1)) / "manifest.json").is_file(), log.read_text()
        with urllib.request.urlopen(chat.group(2), timeout=5) as r:
            assert f"conf:{chat.group(3)}" in r.read().decode()
    finally:
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(10) == 0, log.read_text()
    text = log.read_text()
    heard = re.findall(r"  (\w+) \(sends (\d+) Hz\) hears:(.*)", text)
    assert len(heard) == 3, text
    for name, own, line in heard:
        verdicts = dict(re.findall(r"(\d+) Hz (yes|no)", line))
        for freq, verdict in verdicts.items():
            assert verdict == ("no" if freq == own else "yes"), f"{name}: {line}"
    roster = re.search(r"reports it:\n\s+version \d+: (.*)", text)
    assert roster, text
    members = sorted(m.split(":connected")[0] for m in roster.group(1).split())
    assert members == ["sip:alice@confab.local", "sip:bob@confab.local", "sip:carol@confab.local"], roster.group(1)
    # The service scene: Join, roster events, SameDeviceJoin by Replaces, what the desk phone hears.
    assert 'reason="connected"' in text and 'how="replaces"' in text, text
    assert re.search(r"roster sip:demo@conference.confab.local: .*\+sip:you@confab.local", text), text
    assert re.search(r"roster sip:lobby@conference.confab.local: .*\+sip:you@confab.local", text), text
    desk = re.findall(r"desk hears:(.*)", text)
    assert len(desk) == 2, text
    before, after = (dict(re.findall(r"(\d+) Hz (yes|no)", line)) for line in desk)
    assert before == {"440": "yes", "660": "yes", "880": "yes", "1100": "no"}, desk[0]
    assert after == {"440": "no", "660": "no", "880": "no", "1100": "yes"}, desk[1]
    assert "device chooser page: http://127.0.0.1:5066/?key=" in text
    leftovers = lambda: subprocess.run(["pgrep", "-f", f"confab phone.*{tmp_path}"], capture_output=True,
                                       text=True).stdout.strip()
    wait_for(lambda: leftovers() == "", timeout=5, what="the demo phones to exit (demo phones left running)",
             state=leftovers)
