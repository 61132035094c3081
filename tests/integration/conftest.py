import os
import subprocess

import pytest


@pytest.fixture(autouse=True)
def no_stray_peers():
    """Kill SIPp left over by a failed test so the next one gets its ports (only
    this pytest's children: benchmarks or other runs on the machine are not ours)."""
    yield
    subprocess.run(["pkill", "-P", str(os.getpid()), "-f", "^sipp "], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
