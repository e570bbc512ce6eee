"""The model page's precomputed part: what only the catalogue and the OpenRouter archive change, read and rendered
once per version of theirs.

The whole page is cached under the catalogue and telemetry versions (web.cache.cached_page), and telemetry's moves
on every probe round: each model page then renders again. That render reads this part (one cache round trip) and
does only the telemetry's work: rank the offers, format their rows, the highlights and the price chart's axis.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Modality, ModelCapability
from web.cache import CATALOGUE, SNAPSHOTS, key_of, page_part
from web.selectors import ModelLookup, model_page_read


@dataclass(frozen=True)
class ModelPagePart:
    """A model path's look-up and, for a model, its page's HTML that no telemetry changes."""

    lookup: ModelLookup
    intro: SafeString = mark_safe("")  # breadcrumb, name, badges, archive links, deprecation notice
    facts: SafeString = mark_safe("")  # the "Facts" and "Also known as" columns


# A stored part is unpickled into today's classes: its name changes with their fields, so a deploy that changes them
# never reads a part of the old shape.
PART = "model-page-" + key_of(",".join(f.name for cls in (ModelLookup, ModelPagePart) for f in fields(cls)))[:8]


def model_page_part(identifier: str) -> ModelPagePart:
    """The part of /models/<identifier>, kept under the catalogue's and the archive's versions (web.cache.page_part).
    A name that finds nothing is not kept (any text can be asked for)."""
    return page_part(
        PART,
        key_of(identifier),
        lambda: _model_page_part(identifier),
        tags=(CATALOGUE, SNAPSHOTS),
        store=lambda part: part.lookup.model is not None or part.lookup.redirect_to is not None,
    )


def _model_page_part(identifier: str) -> ModelPagePart:
    lookup = model_page_read(identifier)
    if lookup.model is None:
        return ModelPagePart(lookup)
    context = {
        "model": lookup.model,
        "aliases": lookup.aliases,
        "model_history_links": lookup.history_links.models,
        "modalities": Modality,
        "capabilities": ModelCapability,
    }
    intro, facts = (_fragment(f"web/_model_{name}.html", context) for name in ("intro", "facts"))
    return ModelPagePart(lookup, intro, facts)


def _fragment(template: str, context: dict) -> SafeString:
    # Without the file's last newline: the page's own line after `{{ part.… }}` ends the fragment.
    return mark_safe(render_to_string(template, context).removesuffix("\n"))
