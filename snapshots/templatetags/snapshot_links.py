"""Template filters for links to the OpenRouter archive's pages from the catalogue's pages."""

from __future__ import annotations

from django import template

from snapshots.page_data import HistoryLink

register = template.Library()


@register.filter
def history_for(links: dict[int, HistoryLink] | None, mapping) -> HistoryLink | None:
    """`{{ history_links|history_for:offer.mapping }}`: the offer's archive link, if it has one."""
    return (links or {}).get(getattr(mapping, "pk", None))
