"""modelgraph/memory.py: with glibc's mmap threshold fixed, a freed buffer of megabytes leaves the process's RSS.

Each case runs in a fresh interpreter: the threshold is process-wide, and this one's history is unknown."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from pathlib import Path

def rss_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

if sys.argv[1] == "fixed":
    from modelgraph.memory import release_large_buffers
    assert release_large_buffers() and release_large_buffers()  # idempotent
before = rss_kib()
for _ in range(3):  # a list body received, stored and let go, hour after hour
    body = b"x" * (16 << 20)
    del body
print((rss_kib() - before) / 1024)
"""


def retained_mb(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only (this machine has it)")
def test_a_freed_body_of_megabytes_goes_back_to_the_system():
    assert retained_mb("fixed") < 2
    # glibc's sliding threshold (the default) keeps the second and later buffers on the heap: what the fix is for.
    assert retained_mb("sliding") > 8
