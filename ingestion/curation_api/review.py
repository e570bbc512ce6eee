"""The curators' work queue: everything that needs a curator, each item with the one call or page that resolves it.

Kinds, in queue order: models and offers flagged for review, disputed prices, lifecycle contradictions and other
data-quality findings (the catalogue check's), offers whose prices no source confirmed for STALE_AFTER, and price
feed rows no offer matched. The same list feeds /api/v1/admin/review and the admin's "Work queue" page."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog.identity.facts import LIFECYCLE, Finding
from catalog.models import Lifecycle, Mapping, Model
from catalog.quality import catalogue_quality
from ingestion.models import UnmatchedPrice
from ingestion.prices.curation import offers_disputed
from ingestion.prices.sources import PRICE_SOURCES
from ingestion.sources import SOURCES

STALE_AFTER = dt.timedelta(days=30)
MODEL_NEEDS_REVIEW, OFFER_NEEDS_REVIEW = "model_needs_review", "offer_needs_review"
PRICE_DISPUTE, LIFECYCLE_CONTRADICTION, QUALITY = "price_dispute", "lifecycle_contradiction", "quality_finding"
STALE_PRICE, UNMATCHED_PRICE = "stale_price", "unmatched_price"
REVIEW_KINDS = (
    *(MODEL_NEEDS_REVIEW, OFFER_NEEDS_REVIEW, PRICE_DISPUTE, LIFECYCLE_CONTRADICTION, QUALITY, STALE_PRICE),
    UNMATCHED_PRICE,
)
REASON = "<why>"  # what an action's body asks the curator to fill in


@dataclass(frozen=True)
class Action:
    """The one step that resolves an item: an admin-API call (method, url, a body to complete) or an admin page."""

    method: str
    url: str
    description: str
    body: dict | None = None


@dataclass(frozen=True)
class ReviewItem:
    kind: str
    description: str
    action: Action
    model: str | None = None
    provider: str | None = None
    offer: int | None = None
    admin_url: str = ""
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["subject"] = {
            "model": data.pop("model"),
            "provider": data.pop("provider"),
            "offer": data.pop("offer"),
            "admin_url": data.pop("admin_url"),
        }
        return data


def _model_admin(pk: int) -> str:
    return reverse("admin:catalog_model_change", args=[pk])


def _offer_admin(pk: int) -> str:
    return reverse("admin:catalog_mapping_change", args=[pk])


def _page(url: str, description: str) -> Action:
    return Action("GET", url, description)


def _needs_review() -> list[ReviewItem]:
    items = [
        ReviewItem(
            MODEL_NEEDS_REVIEW,
            f"{m.slug}: created by ingestion from an id nothing matched",
            Action(
                "POST",
                reverse("curation-model-merge", args=[m.slug]),
                "merge it into the model it is (or clear 'needs review' on its admin page if it is new)",
                {"target": "<model slug>", "reason": REASON},
            ),
            model=m.slug,
            admin_url=_model_admin(m.pk),
        )
        for m in Model.objects.filter(needs_review=True).order_by("slug")
    ]
    offers = Mapping.objects.filter(needs_review=True).select_related("provider", "model").order_by("pk")
    items += [
        ReviewItem(
            OFFER_NEEDS_REVIEW,
            f"{o.provider.slug}:{o.provider_model_id} filed under {o.model.slug} by ingestion: check the model",
            _page(_offer_admin(o.pk), "check the offer's model and clear 'needs review' on its admin page"),
            model=o.model.slug,
            provider=o.provider.slug,
            offer=o.pk,
            admin_url=_offer_admin(o.pk),
        )
        for o in offers
    ]
    return items


def _disputes() -> list[ReviewItem]:
    items = []
    for offer in offers_disputed():
        for name, entry in sorted((offer.provenance or {}).items()):
            if not isinstance(entry, dict) or not entry.get("disputed"):
                continue
            values = ", ".join(f"{source} {value}" for source, value in sorted((entry.get("values") or {}).items()))
            items.append(
                ReviewItem(
                    PRICE_DISPUTE,
                    f"{offer.provider.slug}:{offer.provider_model_id} {name} shows {entry.get('value')} "
                    f"({entry.get('source')}); sources say {values}",
                    _page(
                        reverse("admin:catalog_mapping_disputed") + f"#offer-{offer.pk}",
                        "accept one source's value as a pin, or mark the wrong source wrong for this offer",
                    ),
                    model=offer.model.slug,
                    provider=offer.provider.slug,
                    offer=offer.pk,
                    admin_url=_offer_admin(offer.pk),
                    details={"field": name, "values": entry.get("values") or {}},
                )
            )
    return items


def _finding_item(finding: Finding, models: dict[str, int], offers: dict[tuple[str, str], int]) -> ReviewItem:
    model_pk = models.get(finding.model)
    offer_pk = offers.get((finding.provider, finding.offer)) if finding.offer else None
    admin_url = _offer_admin(offer_pk) if offer_pk else (_model_admin(model_pk) if model_pk else "")
    kind = LIFECYCLE_CONTRADICTION if finding.kind == LIFECYCLE else QUALITY
    if kind == LIFECYCLE_CONTRADICTION and offer_pk:
        action = Action(
            "POST",
            reverse("curation-offer-lifecycle", args=[offer_pk]),
            "set the offer's status and retirement day",
            {"status": "<status>", "retirement_date": "<YYYY-MM-DD or null>", "reason": REASON},
        )
    elif kind == LIFECYCLE_CONTRADICTION and model_pk:
        action = Action(
            "POST",
            reverse("curation-model-lifecycle", args=[finding.model]),
            "set the model's status, dates and successor",
            {"status": "<status>", "deprecation_date": None, "sunset_date": None, "reason": REASON},
        )
    elif finding.kind == "duplicate" and model_pk:
        action = Action(
            "POST",
            reverse("curation-model-merge", args=[finding.model]),
            "merge the duplicate into the model it repeats",
            {"target": "<model slug>", "reason": REASON},
        )
    elif finding.field and model_pk:
        action = Action(
            "POST",
            reverse("curation-model-pins", args=[finding.model]),
            f"pin the right {finding.field}",
            {"field": finding.field, "value": "<value>", "reason": REASON},
        )
    else:
        action = _page(admin_url or reverse("admin:catalog_quality"), "correct it on the admin page")
    return ReviewItem(
        kind,
        f"{finding.severity} {finding.kind} {finding.subject}: {finding.message}",
        action,
        model=finding.model or None,
        provider=finding.provider or None,
        offer=offer_pk,
        admin_url=admin_url,
        details={"severity": finding.severity, "check": finding.kind},
    )


def _findings() -> list[ReviewItem]:
    report = catalogue_quality()
    if not report.findings:
        return []
    models = dict(Model.objects.values_list("slug", "pk"))
    offers = {
        (provider, offer_id): pk
        for provider, offer_id, pk in Mapping.objects.values_list("provider__slug", "provider_model_id", "pk")
    }
    items = [_finding_item(f, models, offers) for f in report.findings]
    return sorted(items, key=lambda item: item.kind != LIFECYCLE_CONTRADICTION)


def _stale(now: dt.datetime) -> list[ReviewItem]:
    offers = (
        Mapping.objects.filter(
            Q(prices_checked__lt=now - STALE_AFTER), status__in=(Lifecycle.ACTIVE, Lifecycle.PREVIEW)
        )
        .select_related("provider", "model")
        .order_by("prices_checked", "pk")
    )
    runnable = {*SOURCES, *PRICE_SOURCES}
    items = []
    for o in offers:
        age = (now - o.prices_checked).days if o.prices_checked else None
        if o.source in runnable:
            action = Action("POST", reverse("ingest", args=[o.source]), f"run {o.source} to confirm the prices")
        else:
            action = _page(_offer_admin(o.pk), "check the provider's price page; correct the prices or the checked day")
        items.append(
            ReviewItem(
                STALE_PRICE,
                f"{o.provider.slug}:{o.provider_model_id} prices last confirmed {age} days ago",
                action,
                model=o.model.slug,
                provider=o.provider.slug,
                offer=o.pk,
                admin_url=_offer_admin(o.pk),
                details={"prices_checked": o.prices_checked.isoformat() if o.prices_checked else None},
            )
        )
    return items


def _unmatched() -> list[ReviewItem]:
    return [
        ReviewItem(
            UNMATCHED_PRICE,
            f"{row.source} lists {row.provider_key}/{row.model_key}, which no offer matched"
            + (f" ({row.reason})" if row.reason else ""),
            Action(
                "POST",
                reverse("curation-aliases"),
                "add the feed's name as an alias of the model it is, so the next run matches it",
                {"alias": row.model_key, "model": "<model slug>", "provider": None, "reason": REASON},
            ),
            provider=row.provider_key,
            admin_url=reverse("admin:ingestion_unmatchedprice_changelist") if _has_unmatched_admin() else "",
            details={"source": row.source, "last_seen": row.last_seen.isoformat()},
        )
        for row in UnmatchedPrice.objects.order_by("-last_seen", "pk")
    ]


def _has_unmatched_admin() -> bool:
    from django.contrib import admin

    return UnmatchedPrice in admin.site._registry


def review_queue(*, kind: str | None = None, now: dt.datetime | None = None) -> list[ReviewItem]:
    """Every open item (or those of one kind), in the order of REVIEW_KINDS."""
    now = now or timezone.now()
    builders = {
        MODEL_NEEDS_REVIEW: _needs_review,
        PRICE_DISPUTE: _disputes,
        LIFECYCLE_CONTRADICTION: _findings,
        STALE_PRICE: lambda: _stale(now),
        UNMATCHED_PRICE: _unmatched,
    }
    groups = {OFFER_NEEDS_REVIEW: MODEL_NEEDS_REVIEW, QUALITY: LIFECYCLE_CONTRADICTION}
    wanted = groups.get(kind, kind) if kind else None
    items: list[ReviewItem] = []
    for name, build in builders.items():
        if wanted is None or name == wanted:
            items += build()
    return [item for item in items if kind is None or item.kind == kind]
