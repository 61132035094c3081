"""The switches between two tones in a recording (bench/game_crossings.sh).

   tone_switches.py NAME RECORD.wav HZ_A HZ_B

A listener moved back and forth between two conferences, each playing its own
tone, recorded what it heard. In 10 ms windows a tone is heard above -30 dBFS
(as in bench/tools/switch_gap.py); each time the tone heard changes from one to
the other, the switch's gap is the silence between the last window of the old
tone and the first of the new one. Silences within one tone (audio lost while
staying in a conference) are counted apart. Prints one line:
  NAME: switches=N median_gap_ms=X worst_gap_ms=Y frames_lost=Z dropouts=D longest_dropout_ms=L"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "integration"))
from confab_testlib import read_wav, tone_levels_db  # noqa: E402

HEARD_DB = -30


def tones_heard(record, a, b):
    """Per 10 ms window: a, b (the louder of the two heard) or None."""
    x, rate = read_wav(record)
    levels = tone_levels_db(x, rate, [a, b], window_ms=10)
    out = []
    for la, lb in zip(levels[a], levels[b]):
        if max(la, lb) <= HEARD_DB:
            out.append(None)
        else:
            out.append(a if la >= lb else b)
    return out


def switches_and_dropouts(heard):
    """(gaps of the switches, silences within one tone), in ms."""
    gaps, dropouts = [], []
    last, last_at = None, None
    for i, tone in enumerate(heard):
        if tone is None:
            continue
        if last is not None and i - last_at > 1:
            (gaps if tone != last else dropouts).append((i - last_at - 1) * 10)
        elif last is not None and tone != last:
            gaps.append(0)
        last, last_at = tone, i
    return gaps, dropouts


def main(name, record, a, b):
    gaps, dropouts = switches_and_dropouts(tones_heard(record, int(a), int(b)))
    gaps.sort()
    median = gaps[len(gaps) // 2] if gaps else -1
    worst = gaps[-1] if gaps else -1
    frames = sum((g + 19) // 20 for g in gaps)
    print(f"{name}: switches={len(gaps)} median_gap_ms={median} worst_gap_ms={worst} frames_lost={frames} "
          f"dropouts={len(dropouts)} longest_dropout_ms={max(dropouts, default=0)}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
