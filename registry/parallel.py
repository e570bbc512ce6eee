"""Whether a registry step is worth handing to other processes (the parse, the identity rules)."""

from __future__ import annotations

import os

from django.conf import settings


def parallel_worthwhile(files: int) -> bool:
    """A registry of REGISTRY_PARALLEL_THRESHOLD files or more, on a machine with two cores or more: a fork costs
    more than it saves below that."""
    return files >= settings.REGISTRY_PARALLEL_THRESHOLD and (os.cpu_count() or 1) >= 2
