"""Process memory: large transient buffers handed back to the system when they are freed.

glibc's malloc serves a request above its mmap threshold (128 KB) with a mapping of its own, unmapped on free. But
each such free raises the threshold to the freed size (up to 32 MB), so the next buffer of that size comes from the
heap, where freed space stays resident. A snapshot sync receives list bodies of megabytes (15 MB for the frontend
list at 10x the real sizes) beside list segments of 4 MB: with the sliding threshold its peak RSS growth measured
57.7-58.5 MB, with the threshold fixed at 128 KB 44.1 MB (issue 17's limit: 64 MB).
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # <malloc.h>
THRESHOLD = 128 * 1024  # glibc's own starting value, kept from now on

_fixed = False


def release_large_buffers(threshold: int = THRESHOLD) -> bool:
    """Fix glibc's mmap threshold (`mallopt(M_MMAP_THRESHOLD, …)`), which also stops it from sliding up, for this
    process. True when it was set; False where there is no glibc (the call is then a no-op)."""
    global _fixed
    if _fixed:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _fixed = mallopt(M_MMAP_THRESHOLD, threshold) == 1
    return _fixed
