"""The rows of the model page's comparison table, rendered in Python once per page.

A model has up to ~60 offers and each row has ~30 cells, badges and links: through the template language (a filter,
an `{% if %}` or a `{% url %}` per value) the rows were most of the page's render time, so they are formatted here
with one `reverse()` per pattern and plain string formatting. Every value is HTML-escaped exactly as the template
did (`html.escape`, which Django's autoescape uses), so the markup is the same; templates/web/model_detail.html
holds the rest of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from urllib.parse import quote

from django.template.defaultfilters import date, floatformat, urlencode
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Billing, Lifecycle, Mapping
from catalog.ranking import OfferRank
from snapshots.page_data import HistoryLink
from web.templatetags.web_format import DASH, ms, percent, score, tokens, usd

PLACEHOLDER = "__placeholder__"
NOT_PER_USE = "Not a price per use: not compared for Cheapest"

# One row; the slots are escaped text or fragments built below. Blank lines and indentation as the template had them.
ROW = """
        <tr{best}>
          <th scope="row"><a href="{provider_url}">{provider}</a>
            {cheapest}
            {fastest}
            {status}{needs_review}
            {variant}
            {billing}
            <span class="sub"><span class="mono">{offer_id}</span>{served_by}{history}{charts}</span>
            {provider_uptime}
            {prices}</th>
          <td class="num">{price_input}</td>
          <td class="num">{price_output}</td>
          <td class="num">{price_cached_input}</td>
          <td class="num">{context}</td>
          <td class="num">{max_output}</td>
          <td>{quantization}</td>
          <td class="num uptime">{uptime}</td>
          <td class="num">{ttft}</td>
          <td class="num">{total}</td>
          <td class="num">{score}</td>
        </tr>
        """
NOT_MEASURED = '<span class="sub">not measured</span>'


def url_builder(name: str) -> Callable[[str], str]:
    """`reverse(name, args=[value])` for any value, reversing once: the pattern's prefix and suffix around the value,
    quoted as `reverse()` quotes it."""
    prefix, _, suffix = reverse(name, args=[PLACEHOLDER]).partition(PLACEHOLDER)
    return lambda value: f"{prefix}{quote(value, safe=RFC3986_SUBDELIMS + '/~:@')}{suffix}"


def offer_table_rows(offers: list[OfferRank], *, model_name: str, history_links: dict[int, HistoryLink]) -> SafeString:
    """The `<tr>` of each offer, in the order of `offers`: provider, marks and badges, the offer's id and links, then
    its prices, limits and telemetry figures."""
    provider_url = url_builder("web:provider")
    telemetry_url = reverse("web:telemetry")
    model_name = escape(model_name)
    rows = []
    for offer in offers:
        mapping, provider = offer.mapping, offer.mapping.provider
        name = escape(provider.name)
        history = history_links.get(mapping.pk)
        charted = offer.uptime is not None or offer.median_ttft_ms is not None
        rows.append(
            ROW.format(
                best=' class="best"' if offer.cheapest or offer.fastest else "",
                provider_url=escape(provider_url(provider.slug)),
                provider=name,
                cheapest='<span class="badge good">Cheapest</span>' if offer.cheapest else "",
                fastest='<span class="badge info">Fastest</span>' if offer.fastest else "",
                status=_status_badge(mapping),
                needs_review=' <span class="badge warn">needs review</span>' if mapping.needs_review else "",
                variant=f'<span class="badge info">:{escape(mapping.variant)}</span>' if mapping.variant else "",
                billing=_billing_badge(mapping),
                offer_id=escape(mapping.provider_model_id),
                served_by=f" · served by {escape(mapping.served_by)}" if mapping.served_by else "",
                history=(
                    f' · <a href="{escape(history.url)}" aria-label="OpenRouter history of '
                    f'{escape(mapping.provider_model_id)}">OpenRouter history</a>'
                    if history
                    else ""
                ),
                charts=_charts_link(telemetry_url, provider.slug, mapping.pk, model_name, name) if charted else "",
                provider_uptime=(
                    f'<span class="sub provider-uptime" title="Health checks of {name}\'s API, not of this offer">'
                    f"{name} API uptime (provider-wide): {percent(offer.provider_uptime.get('uptime'))}</span>"
                    if offer.provider_uptime
                    else ""
                ),
                prices=_other_prices(mapping),
                # The web_format figures are digits, units and signs ("$2.50", "128K", "99.87%", "—"): nothing to
                # escape (tests/web/test_offer_table.py holds the rows to the template's escaped output).
                price_input=usd(mapping.price_input),
                price_output=usd(mapping.price_output),
                price_cached_input=usd(mapping.price_cached_input),
                context=tokens(mapping.context_window),
                max_output=tokens(mapping.max_output),
                quantization=escape(mapping.quantization or DASH),
                uptime=percent(offer.uptime) + ("" if offer.measured else NOT_MEASURED),
                ttft=ms(offer.median_ttft_ms),
                total=ms(offer.median_total_ms),
                score=_score_cell(offer),
            )
        )
    return mark_safe("".join(rows))  # every text above is escaped


def _charts_link(telemetry_url: str, provider_slug: str, mapping_pk: int, model_name: str, provider_name: str) -> str:
    """The link to the telemetry dashboard of the offer (names already escaped)."""
    url = escape(f"{telemetry_url}?provider={urlencode(provider_slug)}&offer={mapping_pk}")
    return f' · <a href="{url}" aria-label="Charts of {model_name} at {provider_name}">charts</a>'


def _status_badge(mapping: Mapping) -> str:
    """The lifecycle badge of an offer that is not active ("Deprecated 1 Mar 2027")."""
    if mapping.status == Lifecycle.ACTIVE:
        return ""
    label = mapping.get_status_display()  # type: ignore[attr-defined]
    if mapping.retirement_date:
        label = f"{label} {date(mapping.retirement_date, 'j M Y')}"
    return f'<span class="badge warn">{escape(label)}</span>'


def _billing_badge(mapping: Mapping) -> str:
    """How an offer is billed, when not per token (free tiers and plans never compete for Cheapest)."""
    if mapping.billing == Billing.PER_TOKEN:
        return ""
    css = "warn" if mapping.billing == Billing.UNKNOWN else "info"
    title = "Charged per request" if mapping.billing == Billing.PER_REQUEST else NOT_PER_USE
    label = escape(mapping.get_billing_display())  # type: ignore[attr-defined]
    return f'<span class="badge {css}" title="{title}">{label}</span>'


def _score_cell(offer: OfferRank) -> str:
    if not offer.measured:
        return '<span class="muted">not measured</span>'
    provisional = '<span class="sub">provisional</span>' if offer.score is not None and offer.provisional else ""
    return score(offer.score) + provisional


def _other_prices(m: Mapping) -> str:
    """The prices beside input, output and cached input ("cache write $0.30 · … · regional +10%"), or nothing when
    the offer states none of them."""
    stated = (
        m.price_cache_write,
        m.price_cache_write_1h,
        m.price_reasoning,
        m.price_audio_input,
        m.price_audio_output,
        m.price_image_input,
        m.price_image_output,
        m.price_per_image,
        m.price_per_request,
        m.price_web_search,
        m.price_batch_input,
        m.price_batch_output,
        m.regional_uplift,
    )
    if all(value is None for value in stated) and not m.price_tiers:
        return ""
    parts = []
    if m.price_cache_write is not None:
        one_hour = f" (1 h {usd(m.price_cache_write_1h)})" if m.price_cache_write_1h is not None else ""
        parts.append(f"cache write {usd(m.price_cache_write)}{one_hour} · ")
    if m.price_reasoning is not None:
        parts.append(f"reasoning {usd(m.price_reasoning)} · ")
    if m.price_audio_input is not None or m.price_audio_output is not None:
        parts.append(f"audio {usd(m.price_audio_input)}/{usd(m.price_audio_output)} · ")
    if m.price_image_input is not None or m.price_image_output is not None:
        parts.append(f"image tokens {usd(m.price_image_input)}/{usd(m.price_image_output)} · ")
    if m.price_per_image is not None:
        parts.append(f"{usd(m.price_per_image)} per image · ")
    if m.price_per_request is not None:
        parts.append(f"{usd(m.price_per_request)} per request · ")
    if m.price_web_search is not None:
        parts.append(f"{usd(m.price_web_search)} per 1K searches · ")
    if m.price_batch_input is not None or m.price_batch_output is not None:
        parts.append(f"batch {usd(m.price_batch_input)}/{usd(m.price_batch_output)} · ")
    for tier in m.price_tiers or []:
        above, price_in, price_out = tier.get("above", ""), tier.get("input", ""), tier.get("output", "")
        parts.append(f"above {tokens(above)}: {usd(price_in)}/{usd(price_out)} · ")
    if m.regional_uplift is not None:
        parts.append(f"regional +{floatformat(m.regional_uplift, '-3')}%")
    return f'<span class="sub prices">{escape("".join(parts))}</span>'
