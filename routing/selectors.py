"""Routing reads: the routing table, route states, the request log and its statistics."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils import timezone

from catalog.models import Lifecycle, Mapping, Model
from catalog.ranking import offer_scores
from modelgraph.secrets import key_resolve
from routing.candidates import RouteCandidate
from routing.connectors import NATIVE_HOSTS, api_family, base_url_of
from routing.models import Capability, Outcome, Pool, RequestLog, RouteState, RouteStateValue, RoutingEvent
from routing.policies import PoolSpec
from routing.table import CapabilityNode, ModelInfo, RoutingTable

STATS_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


def _price(value) -> float | None:
    return float(value) if value is not None else None


def routable_mappings() -> QuerySet[Mapping]:
    """Offers the gateway can send to: still listed, not retired, at a provider whose API it speaks
    (routing.connectors: OpenAI-compatible with a URL, a connector row, or a native API's own host)."""
    speaks = Q(provider__openai_compatible=True, provider__connector__isnull=True) & ~Q(provider__api_base_url="")
    speaks |= Q(provider__connector__isnull=False)
    for host in NATIVE_HOSTS:
        speaks |= Q(provider__api_base_url__icontains=f"//{host}")
    return (
        Mapping.objects.filter(speaks, in_registry=True)
        .exclude(status=Lifecycle.RETIRED)
        .exclude(model__status=Lifecycle.RETIRED)
    )


def pool_scores(*, model_ids) -> dict[int, dict]:
    """Score and median TTFT per mapping id for the `best_score`/`lowest_latency` strategies: `catalog.ranking`'s
    figures for these models' whole candidate sets, so an offer scores as on /compare, /ranked and the model page."""
    return {
        pk: {"score": row.score, "median_ttft_ms": row.median_ttft_ms} for pk, row in offer_scores(model_ids).items()
    }


def routable_candidates() -> list[RouteCandidate]:
    """Every routable offer whose provider's key is configured (or that needs none), as plain rows."""
    rows = routable_mappings().values_list(
        "pk",
        "provider_id",
        "model_id",
        "model__slug",
        "provider__slug",
        "provider_model_id",
        "provider__api_base_url",
        "provider__api_key_env",
        "price_input",
        "price_output",
        "delivery_modes",
        "provider__openai_compatible",
        "provider__connector__api",
        "provider__connector__base_url",
    )
    candidates = []
    for row in rows:
        pk, provider_id, model_id, model_slug, provider_slug, pmid, base_url, key_ref, p_in, p_out, modes = row[:11]
        openai_compatible, stated_api, stated_url = row[11:]
        if key_ref and key_resolve(key_ref) is None:
            continue  # a key is referenced but absent here (or refused by the key rule): never route there
        api = api_family(stated=stated_api, base_url=base_url, openai_compatible=openai_compatible)
        url = base_url_of(api, stated=stated_url or "", provider=base_url) if api else ""
        if api is None or not url:
            continue  # no API the gateway speaks, or nowhere to send it
        candidates.append(
            RouteCandidate(
                mapping_id=pk,
                provider_id=provider_id,
                model_id=model_id,
                model_slug=model_slug,
                provider_slug=provider_slug,
                provider_model_id=pmid,
                base_url=url,
                key_ref=key_ref,
                price_input=_price(p_in),
                price_output=_price(p_out),
                delivery_modes=tuple(modes) if isinstance(modes, list) else (),
                api=api,
            )
        )
    return candidates


def _model_infos(model_ids: set[int]) -> dict[int, ModelInfo]:
    rows = Model.objects.filter(pk__in=model_ids).values_list(
        "pk", "slug", "name", "creator__slug", "capabilities", "input_modalities", "output_modalities"
    )
    return {
        pk: ModelInfo(pk, slug, name, creator or "", frozenset(caps or ()), frozenset(ins or ()), frozenset(outs or ()))
        for pk, slug, name, creator, caps, ins, outs in rows
    }


def capability_nodes() -> list[CapabilityNode]:
    return [
        CapabilityNode(
            id=c.pk,
            slug=c.slug,
            name=c.name,
            parent_id=c.parent_id,
            endpoint=c.endpoint,
            description=c.description,
            requires=frozenset(c.catalogue_capabilities or ()),
            excludes=frozenset(c.excluded_capabilities or ()),
            inputs=frozenset(c.input_modalities or ()),
            outputs=frozenset(c.output_modalities or ()),
            pattern=c.member_pattern,
            enabled=c.enabled,
        )
        for c in Capability.objects.all()
    ]


def pool_specs() -> list[tuple[PoolSpec, dict]]:
    pools = Pool.objects.filter(enabled=True).prefetch_related("members", "include_providers", "exclude_providers")
    return [
        (
            PoolSpec.from_pool(pool),
            {
                "members": {m.pk for m in pool.members.all()},
                "include": {p.pk for p in pool.include_providers.all()},
                "exclude": {p.pk for p in pool.exclude_providers.all()},
            },
        )
        for pool in pools
    ]


def routing_table_load() -> RoutingTable:
    """The whole routing table in five queries."""
    candidates = routable_candidates()
    models = _model_infos({c.model_id for c in candidates})
    return RoutingTable.build(capability_nodes(), pool_specs(), candidates, models)


def route_states_not_active() -> list[dict]:
    """Every offer or provider taken out of rotation (a missing row means active)."""
    rows = RouteState.objects.exclude(state=RouteStateValue.ACTIVE).values(
        "mapping_id", "provider_id", "state", "reason", "deactivated_until", "failed_probes", "cooldown_seconds"
    )
    return [dict(row) for row in rows]


def route_state_list() -> QuerySet[RouteState]:
    return RouteState.objects.select_related("mapping__model", "mapping__provider", "provider").order_by("-changed_at")


def routing_event_list() -> QuerySet[RoutingEvent]:
    return RoutingEvent.objects.select_related("mapping__model", "mapping__provider", "provider")


def request_log_list() -> QuerySet[RequestLog]:
    """Every logged request, newest first; the API's RequestLogFilterSet narrows it."""
    return RequestLog.objects.select_related("pool", "mapping__model", "provider", "capability").order_by("-at", "-pk")


def _percentiles(queryset: QuerySet[RequestLog], column: str) -> dict[str, float | None]:
    """p50/p95/p99 of a column: percentile_cont on PostgreSQL, the sorted values elsewhere."""
    names = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
    rows = queryset.exclude(**{f"{column}__isnull": True})
    if connection.vendor == "postgresql":
        sql, params = rows.values(column).query.sql_with_params()
        parts = ", ".join(f"percentile_cont({q}) WITHIN GROUP (ORDER BY v)" for q in names.values())
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {parts} FROM ({sql}) AS sub(v)", params)
            values = cursor.fetchone()
        return {name: (round(v, 2) if v is not None else None) for name, v in zip(names, values, strict=True)}
    ordered = sorted(rows.values_list(column, flat=True))
    if not ordered:
        return dict.fromkeys(names)
    return {name: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) for name, q in names.items()}


def request_log_stats(*, window: str = "24h", now: datetime | None = None) -> dict:
    """Totals, latency percentiles and cost over the window, overall, per pool and per offer."""
    since = (now or timezone.now()) - STATS_WINDOWS[window]
    rows = RequestLog.objects.filter(at__gte=since)
    sums = {
        "requests": Count("pk"),
        "succeeded": Count("pk", filter=Q(outcome=Outcome.SUCCESS)),
        "failed": Count("pk", filter=~Q(outcome__in=[Outcome.SUCCESS, Outcome.CLIENT_ERROR, Outcome.CANCELLED])),
        "attempts": Sum("attempts"),
        "mean_latency_ms": Avg("latency_ms"),
        "prompt_tokens": Sum("prompt_tokens"),
        "completion_tokens": Sum("completion_tokens"),
        "cost": Sum("cost"),
    }
    totals = rows.aggregate(**sums)
    # The stubs cannot see annotations passed as **sums: rows are read as plain dicts.
    by_pool = rows.values(pool_slug=F("pool__slug")).annotate(**sums).order_by("-requests")  # type: ignore[misc]
    per_pool = [dict(row) for row in by_pool]
    by_offer = (
        rows.filter(mapping__isnull=False)
        .values("mapping_id", model=F("mapping__model__slug"), provider_slug=F("provider__slug"))
        .annotate(**sums)
        .order_by("-requests")  # type: ignore[misc]
    )
    per_offer = [dict(row) for row in by_offer]
    outcomes = dict(rows.values_list("outcome").annotate(n=Count("pk")).order_by())
    return {
        "window": window,
        "since": since,
        **_shape(totals),
        "outcomes": outcomes,
        "latency_ms": _percentiles(rows, "latency_ms"),
        "ttft_ms": _percentiles(rows.filter(stream=True), "ttft_ms"),
        "pools": [{"pool": row.pop("pool_slug"), **_shape(row)} for row in per_pool],
        "offers": [{"route": f"{row.pop('model')}@{row.pop('provider_slug')}", **_shape(row)} for row in per_offer],
    }


def _shape(row: dict) -> dict:
    row = dict(row)
    requests = row.get("requests") or 0
    row["success_rate"] = round(row["succeeded"] / requests, 4) if requests else None
    if row.get("mean_latency_ms") is not None:
        row["mean_latency_ms"] = round(row["mean_latency_ms"], 2)
    for name in ("attempts", "prompt_tokens", "completion_tokens"):
        row[name] = row.get(name) or 0
    row["cost"] = str(row["cost"]) if row.get("cost") is not None else "0"
    return row
