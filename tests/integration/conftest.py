import subprocess

import pytest


@pytest.fixture(autouse=True)
def no_stray_peers():
    """Kill SIPp/baresip left over by a failed test so the next one gets its ports."""
    yield
    subprocess.run(["pkill", "-f", "^sipp "], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
