"""Management commands: the default tree, probing what is due, serving with TCP_NODELAY kept."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from routing.management.commands.gateway_serve import bind
from routing.models import Capability, EventKind, RouteState, RouteStateValue
from routing.services import route_state_deactivate


@pytest.mark.django_db
def test_routing_defaults_creates_missing_nodes_and_keeps_curators_changes(capsys):
    Capability.objects.filter(parent__isnull=False).delete()
    Capability.objects.all().delete()
    call_command("routing_defaults")
    assert "created 6 capabilities" in capsys.readouterr().out
    code = Capability.objects.get(slug="code-generation")
    assert code.parent.slug == "text-generation" and code.member_pattern
    code.member_pattern = "coder"
    code.save()
    call_command("routing_defaults")
    code.refresh_from_db()
    assert code.member_pattern == "coder"
    call_command("routing_defaults", "--reset")
    code.refresh_from_db()
    assert code.member_pattern == "code|devstral"


@pytest.mark.django_db(transaction=True)
def test_routing_probe_recovers_what_is_due(catalogue, upstreams, capsys):
    mapping = catalogue.mappings["chat-model@c"]
    route_state_deactivate(
        mapping_id=mapping.pk, reason="test", cooldown_seconds=60, now=timezone.now() - timedelta(seconds=120)
    )
    call_command("routing_probe")
    assert "probed 1, recovered 1" in capsys.readouterr().out
    state = RouteState.objects.get()
    assert state.state == RouteStateValue.ACTIVE
    assert state.events.filter(kind=EventKind.MODEL_RECOVERED).exists()
    assert upstreams.c.requests[0]["json"]["max_tokens"] == 1


def test_gateway_serve_binds_a_socket_that_keeps_tcp_nodelay():
    sock = bind("127.0.0.1", 0, 16)
    try:
        # asyncio sets TCP_NODELAY only on accepted sockets whose protocol says TCP (uvicorn issue #3149).
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
