"""Benchmark baseline: the same server answering a fixed JSON body (the file BENCH_STATIC_BODY names)."""

from __future__ import annotations

import os
from pathlib import Path

from django.http import HttpResponse


def static_body(request):
    body = getattr(static_body, "_body", None)
    if body is None:
        body = static_body._body = Path(os.environ["BENCH_STATIC_BODY"]).read_bytes()
    return HttpResponse(body, content_type="application/json")
