"""SameDeviceJoin audio gap at the device (bench/switch_gap.sh).

One device (a confab phone recording what it hears) is moved by `confab service`
20 times between two conferences on the same server (INVITE with Replaces) and
20 times between conferences on two servers (make-before-break re-INVITE). Every
room plays its own tone, so the recording shows, per switch, the last 10 ms of
the old room and the first 10 ms of the new one. For comparison, the same kind of
device moves 20 times the way a phone does without Confab: hang up, dial again.
Prints per mode the median and worst gap (ms) and the 20 ms frames lost."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "integration"))
from confab_testlib import (Conference, Mixer, Phone, Service, read_wav, stop_all,  # noqa: E402
                            tone_levels_db, wait_for)

A, B = "127.0.0.1:5080", "127.0.0.1:5082"
SWITCHES = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PAUSE = 0.8  # seconds in each room


def gaps(record, switches):
    """Per switch (at_ms, old_hz, new_hz): silence in ms between the old tone and the new."""
    x, rate = read_wav(record)
    freqs = sorted({f for s in switches for f in s[1:]})
    levels = tone_levels_db(x, rate, freqs, window_ms=10)
    out = []
    for at, old, new in switches:
        i = at // 10
        first_new = next((j for j in range(i, min(i + 300, len(levels[new]))) if levels[new][j] > -30), None)
        if first_new is None:
            out.append(None)  # the new room never arrived
            continue
        last_old = max((j for j in range(max(0, i - 100), first_new) if levels[old][j] > -30), default=i)
        out.append(max(0, (first_new - last_old - 1) * 10))
    return out


def summary(name, values):
    ok = [v for v in values if v is not None]
    missing = len(values) - len(ok)
    ok.sort()
    med = ok[len(ok) // 2] if ok else -1
    worst = ok[-1] if ok else -1
    frames = sum((v + 19) // 20 for v in ok)
    print(f"{name}: switches={len(values)} median_gap_ms={med} worst_gap_ms={worst} frames_lost={frames} "
          f"failed={missing}")
    return worst if not missing else 10 ** 6


def main(tmp):
    tmp = Path(tmp)
    procs = []
    try:
        procs += [Mixer(tmp), Mixer(tmp, port=5092, rtp="21000-21999", http_port=5093, name="mixer-b"),
                  Conference(tmp), Conference(tmp, port=5082, mixer="sip:127.0.0.1:5092", admin_port=5083,
                                              name="conference-b")]
        procs += [Phone(tmp, "r1", 5172, "--tone", "900", "--volume", "0.2", "--dial", f"sip:room1@{A}"),
                  Phone(tmp, "r2", 5174, "--tone", "1300", "--volume", "0.2", "--dial", f"sip:room2@{A}"),
                  Phone(tmp, "r3", 5178, "--tone", "1700", "--volume", "0.2", "--dial", f"sip:room3@{B}")]
        dev = Phone(tmp, "dev", 5176, "--auto-answer")
        procs.append(dev)
        svc = Service(tmp, devices=["desk=sip:dev@127.0.0.1:5176"], default_device="desk")
        procs.append(svc)
        c = svc.client()
        assert c.call(f'<Join id="sip:room1@{A}"/>').get("status") == "ok"
        time.sleep(1.5)
        t0 = dev.epoch_ms()
        same, across = [], []
        rooms = {f"sip:room1@{A}": 900, f"sip:room2@{A}": 1300, f"sip:room3@{B}": 1700}
        current = f"sip:room1@{A}"
        for plan, out in (([f"sip:room2@{A}", f"sip:room1@{A}"], same), ([f"sip:room3@{B}", f"sip:room1@{A}"], across)):
            for k in range(SWITCHES):
                target = plan[k % 2]
                at = int(time.time() * 1000) - t0
                r = c.call(f'<SameDeviceJoin id="{target}"/>')
                assert r.get("status") == "ok", r.attrib
                out.append((at, rooms[current], rooms[target], r.get("how")))
                current = target
                time.sleep(PAUSE)
        # Without Confab: the device hangs up and dials the other room.
        assert c.call("<Hangup/>").get("status") == "ok"
        base = Phone(tmp, "redial", 5180, "--dial", f"sip:room1@{A}")
        procs.append(base)
        base.wait_event("media")
        time.sleep(1.5)
        b0 = base.epoch_ms()
        redial, current = [], f"sip:room1@{A}"
        for k in range(SWITCHES):
            target = [f"sip:room2@{A}", f"sip:room1@{A}"][k % 2]
            at = int(time.time() * 1000) - b0
            base.send("hangup")
            base.send(f"dial {target}")
            redial.append((at, rooms[current], rooms[target]))
            current = target
            time.sleep(PAUSE)
    finally:
        stop_all(*reversed(procs))
    hows = {s[3] for s in same} | {s[3] for s in across}
    print(f"moves used: same server={sorted({s[3] for s in same})} across={sorted({s[3] for s in across})}")
    assert hows <= {"replaces", "reinvite"}, hows
    worst_same = summary("same server (Replaces)", gaps(dev.record, [s[:3] for s in same]))
    worst_across = summary("across servers (re-INVITE)", gaps(dev.record, [s[:3] for s in across]))
    worst_redial = summary("hang up and dial again (no Confab)", gaps(base.record, redial))
    print(f"RATIO across-servers/redial (worst gap, lower is better) = {worst_across / max(worst_redial, 1):.2f}")
    ok = worst_same == 0 and worst_across <= 20
    print("targets: 0 frames lost same server, <= 20 ms across servers:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main(sys.argv[1])
