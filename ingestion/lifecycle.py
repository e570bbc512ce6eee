"""deprecations.info notices at the scope they name: one platform's offer, one dated snapshot, or the model itself.

- A notice from a platform (Azure, AWS Bedrock, Google Vertex…) about a model someone else created retires or
  deprecates THAT platform's offer of it, found by the offer's own id; the model and other platforms are untouched.
- A notice from the model's creator naming a dated snapshot (`gpt-3.5-turbo-0613`, `claude-3-5-sonnet-20240620`)
  sets that snapshot's alias (and the creator's offer with that id), not the canonical model.
- Only a notice from the model's creator naming the model's own id (or an undated spelling of it: `GPT-4`,
  `openai/gpt-4`, a `-latest` pointer) speaks for the model: it goes on to the model's observations (status,
  deprecation and sunset dates, successor). Another name filed as an alias (`gpt-4-32k` on gpt-4) is that alias alone.
A notice that fits none of these is skipped with the reason recorded in the run, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import transaction

from catalog import bulk
from catalog.models import Alias, Lifecycle, Mapping, Model, Provider
from catalog.naming import normalise_name
from catalog.signals import catalogue_changed
from ingestion.matching import ModelIndex

MODEL, SNAPSHOT, OFFER, SKIPPED = "model", "snapshot", "offer", "skipped"

# A date stamp as providers write them: 20240620, 2024-06-20, 03-2024, 06-05, and four digits that read as MMDD
# (0613, 1106) or YYMM (2407, 2503). Only whole hyphen-separated tokens count.
_STAMP = re.compile(r"(?:^|[-_@])(\d{8}|\d{4}-\d{2}-\d{2}|\d{2}-\d{4}|\d{2}-\d{2}|\d{4})(?=$|[-_:@])")


def _plausible(stamp: str) -> bool:
    digits = stamp.replace("-", "")
    if len(digits) == 8:
        return 1 <= int(digits[4:6]) <= 12 and 1 <= int(digits[6:]) <= 31
    if len(digits) == 6:  # MM-YYYY
        return 1 <= int(digits[:2]) <= 12
    head, tail = int(digits[:2]), int(digits[2:])
    if "-" in stamp:  # MM-DD
        return 1 <= head <= 12 and 1 <= tail <= 31
    return (1 <= head <= 12 and 1 <= tail <= 31) or (20 <= head <= 29 and 1 <= tail <= 12)


def is_dated_snapshot(name: str) -> bool:
    """Whether a model id carries a date stamp, i.e. names one dated snapshot rather than the model line."""
    # The first token is the model's name itself ("o3", "4o"): a stamp is never the first token.
    _name, _, rest = name.partition("-")
    return bool(rest) and any(_plausible(m.group(1)) for m in _STAMP.finditer("-" + rest))


def offer_key(name: str) -> str:
    """How a notice's id is compared with an offer's id: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def notice_scope(
    *,
    notice_id: str,
    notice_provider: str | None,
    model_slug: str | None,
    creator: str | None,
    line_continues: bool = False,
) -> str:
    """The scope one notice speaks for: MODEL, SNAPSHOT or OFFER (see the module docstring). `line_continues`: the
    creator still serves the model under an id no notice retires (Cohere retiring `command-r` while
    `command-r-08-2024` lives on), so even the model's own name is one name of a line that goes on."""
    if model_slug is None or creator is None or notice_provider != creator:
        return OFFER  # a platform speaks for its own offers only (and an unmatched id names no model at all)
    own_name = notice_id.lower() == model_slug.lower() or (
        not is_dated_snapshot(notice_id) and normalise_name(notice_id) == normalise_name(model_slug)
    )  # the model's slug, another spelling of it, or its "-latest" pointer
    if own_name and not line_continues:
        return MODEL
    # A dated snapshot, or a distinct name filed as an alias (`gpt-4-32k` on gpt-4): that name alone.
    return SNAPSHOT


def lifecycle_of(fields: dict, today: dt.date) -> tuple[str, dt.date] | None:
    """(status, retirement date) a notice states for an offer or an alias; None without a shutdown date."""
    sunset = fields.get("sunset_date")
    if not sunset:
        return None
    day = dt.date.fromisoformat(sunset)
    return (Lifecycle.RETIRED.value if day <= today else Lifecycle.DEPRECATED.value), day


def filled_lifecycle(status: str, day: dt.date | None, wanted: tuple[str, dt.date]) -> tuple[str, dt.date]:
    """A notice fills gaps only: a missing retirement date, and a status that does not yet say the row ends."""
    return (wanted[0] if status in (Lifecycle.ACTIVE, Lifecycle.PREVIEW) else status), (day or wanted[1])


@dataclass
class NoticeOutcome:
    """What the notices of one run did, scope by scope; `model_observations` go on to the model's observations."""

    model_observations: list = field(default_factory=list)
    offers: set[int] = field(default_factory=set)  # offer ids that now carry the notice's lifecycle
    aliases: set[str] = field(default_factory=set)  # alias names written or created
    skipped: list[dict] = field(default_factory=list)
    touched_models: set[int] = field(default_factory=set)

    def details(self) -> dict:
        return {
            "models": len({o.external_id for o in self.model_observations}),
            "offers": len(self.offers),
            "aliases": len(self.aliases),
            "skipped": self.skipped[:50],
            "skipped_count": len(self.skipped),
        }


@transaction.atomic
def lifecycle_apply_notices(*, observations: list, source: str, today: dt.date | None = None) -> NoticeOutcome:
    """Write each notice at its scope (offers and aliases here); hand the model-scope notices back."""
    today = today or dt.date.today()
    index = ModelIndex.build()
    models = {pk: (slug, creator) for pk, slug, creator in Model.objects.values_list("pk", "slug", "creator__slug")}
    providers = dict(Provider.objects.values_list("slug", "pk"))
    offers: dict[tuple[int, str], list[Mapping]] = {}
    for offer in Mapping.objects.all():
        offers.setdefault((offer.provider_id, offer_key(offer.provider_model_id)), []).append(offer)
    aliases = {alias.alias.lower(): alias for alias in Alias.objects.all()}
    outcome = NoticeOutcome()
    changed_offers: dict[int, Mapping] = {}
    changed_aliases: dict[str, Alias] = {}
    new_aliases: dict[str, Alias] = {}

    def skip(obs, reason: str) -> None:
        outcome.skipped.append({"id": obs.external_id, "provider": obs.provider, "reason": reason})

    def set_lifecycle(row: Alias | Mapping, wanted: tuple[str, dt.date]) -> bool:
        # deprecations.info only fills gaps in what the registry states (a curator's word); its own rows it keeps.
        if row.in_registry:
            wanted = filled_lifecycle(row.status, row.retirement_date, wanted)
        if (row.status, row.retirement_date) == wanted:
            return False
        row.status, row.retirement_date = wanted
        return True

    # The ids each creator still serves each model under, less those a notice with a shutdown date names.
    retiring = {(obs.provider, offer_key(obs.external_id)) for obs in observations if lifecycle_of(obs.fields, today)}
    live_ids: dict[tuple[int, str], set[str]] = {}
    provider_slugs = {pk: slug for slug, pk in providers.items()}
    for (host_id, key), rows in offers.items():
        for offer in rows:
            if offer.status in (Lifecycle.ACTIVE, Lifecycle.PREVIEW):
                live_ids.setdefault((offer.model_id, provider_slugs.get(host_id, "")), set()).add(key)
    for obs in observations:
        model_id, _how = index.match(obs.external_id)
        slug, creator = models.get(model_id, (None, None)) if model_id else (None, None)
        served = live_ids.get((model_id, creator or ""), set()) if model_id is not None else set()
        continuing = {k for k in served if (creator, k) not in retiring}
        scope = notice_scope(
            notice_id=obs.external_id,
            notice_provider=obs.provider,
            model_slug=slug,
            creator=creator,
            line_continues=bool(continuing),
        )
        wanted = lifecycle_of(obs.fields, today)
        if wanted is None:
            # Without a shutdown date the feed is quoting a changelog entry ("gemini-2.5-pro", its GA), not a
            # retirement: nothing of it is written at any scope.
            skip(obs, f"{scope} notice without a shutdown date")
            continue
        provider_id = providers.get(obs.provider or "")
        matching = offers.get((provider_id, offer_key(obs.external_id)), []) if provider_id else []
        for offer in matching:  # at every scope, the notice's own provider retires its own offer by that id
            outcome.offers.add(offer.pk)
            if set_lifecycle(offer, wanted):
                changed_offers[offer.pk] = offer
                outcome.touched_models.add(offer.model_id)
        if scope == MODEL:
            outcome.model_observations.append(obs)
            continue
        if scope == OFFER:
            if not matching:
                named = "" if model_id else "matches no model and "
                skip(obs, f"{named}no offer of {obs.provider} has the id {obs.external_id!r}")
            continue
        if slug is not None and obs.external_id.lower() == slug.lower():
            skip(obs, "the model's own name retires while its creator serves it on under other ids")
            continue
        alias = aliases.get(obs.external_id.lower()) or new_aliases.get(obs.external_id.lower())
        if alias is None and model_id is not None:
            alias = Alias(alias=obs.external_id, model_id=model_id, provider_id=provider_id, in_registry=False)
            alias.status, alias.retirement_date = wanted
            new_aliases[obs.external_id.lower()] = alias
        elif alias is None:
            continue  # a snapshot scope always has its model: never reached
        elif set_lifecycle(alias, wanted) and alias.pk:
            changed_aliases[alias.alias] = alias
        outcome.aliases.add(alias.alias)
        outcome.touched_models.add(alias.model_id)
    _save(changed_offers, changed_aliases, new_aliases, reason=f"ingestion: {source} (lifecycle at its scope)")
    if changed_offers or changed_aliases or new_aliases:
        ids = set(outcome.touched_models)
        transaction.on_commit(lambda: catalogue_changed.send(sender=Mapping, model_ids=ids, provider_ids=set()))
    return outcome


def _save(offers: dict, aliases: dict, new_aliases: dict, *, reason: str) -> None:
    if offers:
        Mapping.objects.bulk_update(offers.values(), ["status", "retirement_date"], batch_size=bulk.BATCH_SIZE)
        bulk.copy_to_history(Mapping, list(offers), "~", reason)
    if aliases:
        Alias.objects.bulk_update(aliases.values(), ["status", "retirement_date"], batch_size=bulk.BATCH_SIZE)
        bulk.copy_to_history(Alias, [a.pk for a in aliases.values()], "~", reason)
    if new_aliases:
        Alias.objects.bulk_create(new_aliases.values(), ignore_conflicts=True)
        created = list(
            Alias.objects.filter(alias__in=[a.alias for a in new_aliases.values()]).values_list("pk", flat=True)
        )
        bulk.copy_to_history(Alias, created, "+", reason)
