"""The OpenRouter archive's model page and model list: inside the site's layout, prices per million tokens, a line
broken across every hour the endpoint was not observed, a legend; and the chart arithmetic on its own."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from snapshots.charts import endpoint_steps, per_million, usd
from tests.web.conftest import text
from tests.web.snapshot_archive import HOUR0, MODEL, OTHER, archive_synced

pytestmark = pytest.mark.django_db

PAGE = f"/snapshots/models/{MODEL}"


@pytest.fixture
def archive(db, settings):
    with archive_synced(settings) as built:
        yield built


def visible(html: str) -> str:
    """The page without its tags' attributes (what a reader sees, roughly)."""
    return re.sub(r"\s[\w:-]+=\"[^\"]*\"", "", html)


def series_path(html: str, chart: str, endpoint_key: str) -> str:
    """The `d` of one endpoint's line in the chart `chart` (`prompt` or `completion`)."""
    svg = re.search(rf'<svg[^>]*aria-labelledby="chart-{chart}-t.*?</svg>', html, re.S)
    assert svg, f"no {chart} chart"
    group = re.search(rf'<g class="series"[^>]*data-endpoint="{re.escape(endpoint_key)}">(.*?)</g>', svg[0], re.S)
    assert group, f"no line for {endpoint_key}"
    return re.search(r'<path d="([^"]+)"', group[1])[1]


def chart_svg(html: str, chart: str) -> str:
    return re.search(rf'<svg[^>]*aria-labelledby="chart-{chart}-t.*?</svg>', html, re.S)[0]


class TestModelHistoryPage:
    def test_it_is_a_page_of_the_site(self, client, archive):
        response = client.get(PAGE)
        html = text(response)
        assert response.status_code == 200
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert '<nav aria-label="Main">' in html and "css/site.css" in html
        assert 'href="/snapshots/"' in html  # breadcrumb back to the archive's list

    def test_prices_are_shown_per_million_tokens_and_kept_as_received(self, client, archive):
        html = text(client.get(PAGE))
        old = archive["old_input"]
        assert per_million(old) == Decimal("0.4")
        assert f'<data value="{old}" title="{old} USD per token">$0.4</data>' in html
        assert '<data value="0.0000005" title="0.0000005 USD per token">$0.5</data>' in html
        assert "$2</data>" in html  # output: "0.000002" per token
        shown = visible(html)
        assert old not in shown and "0.0000005" not in shown and "0.000002" not in shown

    def test_the_price_change_event_reads_in_dollars_per_million(self, client, archive):
        html = text(client.get(PAGE))
        rows = re.findall(r"<tr>.*?</tr>", html, re.S)
        row = next((r for r in rows if 'Price changed<span class="sub">input price' in r), None)
        assert row, "no price-change row"
        assert f'<data value="{archive["old_input"]}">$0.4</data>' in row
        assert '<data value="0.0000005">$0.5</data>' in row

    def test_each_hour_the_endpoint_was_not_observed_breaks_its_line(self, client, archive):
        html = text(client.get(PAGE))
        for tag in archive["tags"]:
            path = series_path(html, "prompt", f"{MODEL}@{tag}")
            # Three runs: hours 0-1, hour 3, hour 5; no sync in hour 2, not fetched in the incomplete hour 4.
            assert path.count("M") == 3, path
        real = series_path(html, "prompt", f"{MODEL}@{archive['tags'][0]}")
        runs = [re.findall(r"[\d.]+,[\d.]+", run) for run in real.split("M")[1:]]
        first_end = float(runs[0][-1].split(",")[0])
        second_start = float(runs[1][0].split(",")[0])
        assert second_start > first_end, "the missing hour is drawn as a line"

    def test_an_incomplete_hour_that_fetched_the_endpoint_is_no_gap(self, client, archive):
        html = text(client.get(f"/snapshots/models/{OTHER}"))
        entity_keys = re.findall(r'data-endpoint="([^"]+)"', chart_svg(html, "prompt"))
        assert entity_keys
        for key in entity_keys:
            assert series_path(html, "prompt", key).count("M") == 2  # only the hour without any sync
        bands = re.findall(r"<rect [^>]*><title>([^<]*)</title>", chart_svg(html, "prompt"))
        assert len(bands) == 2 and all("no complete snapshot" in band for band in bands)

    def test_a_price_change_has_a_marker_and_the_legend_explains_it(self, client, archive):
        html = text(client.get(PAGE))
        assert chart_svg(html, "prompt").count('class="change"') == 1
        assert chart_svg(html, "completion").count('class="change"') == 0
        assert "How to read the charts" in html
        for term in (
            "<strong>Line</strong>",
            "<strong>Gap</strong>",
            "<strong>Grey band</strong>",
            "<strong>Dot</strong>",
        ):
            assert term in html
        for tag in archive["tags"]:
            assert f'<span class="mono">{tag}</span>' in html

    def test_the_chart_summary_counts_the_hours_without_a_complete_snapshot(self, client, archive):
        html = text(client.get(PAGE))
        assert "2 hours without a complete snapshot" in html
        assert "$0.5 per million tokens" in html  # a step's tooltip

    def test_an_unknown_model_is_a_404_page_of_the_site(self, client, archive):
        response = client.get("/snapshots/models/nobody/nothing")
        assert response.status_code == 404 and '<nav aria-label="Main">' in text(response)

    def test_a_variant_id_has_its_page(self, client, archive):
        free = next(m for m in archive["catalogue"].models if m.endswith(":free"))
        response = client.get(f"/snapshots/models/{free}")
        assert response.status_code == 200 and free in text(response)


class TestArchiveList:
    def test_every_archived_model_links_to_its_page(self, client, archive):
        html = text(client.get("/snapshots/"))
        assert f'href="{PAGE}"' in html and f"{len(archive['catalogue'].models)} archived models" in html

    def test_the_filter_narrows_the_list(self, client, archive):
        html = text(client.get("/snapshots/?q=mistral-medium"))
        assert "1 archived model matching" in html and f'href="{PAGE}"' in html and OTHER not in html

    @pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=99999999999999999999", "q=" + "x" * 5000])
    def test_odd_parameters_still_answer_the_list(self, client, archive, query):
        assert client.get(f"/snapshots/?{query}").status_code == 200

    def test_query_count_does_not_grow_with_the_archive(self, client, archive, django_assert_max_num_queries):
        with django_assert_max_num_queries(4):
            client.get("/snapshots/")


class TestChartArithmetic:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("0.0000001179", Decimal("0.1179")),
            ("0.000002", Decimal("2")),
            ("0.00015", Decimal("150")),
            ("0.0000000000001", Decimal("0.0000001")),
            ("0", Decimal("0")),
            ("-1", None),
            ("", None),
            (None, None),
            ("NaN", None),
            ("one dollar", None),
        ],
    )
    def test_per_token_strings_become_exact_prices_per_million(self, raw, expected):
        assert per_million(raw) == expected

    def test_prices_print_without_exponents(self):
        assert [usd(per_million(v)) for v in ("0.00015", "0.0000000000001", "0")] == ["$150", "$0.0000001", "$0"]

    def test_the_steps_split_at_unobserved_hours(self):
        hours = [HOUR0 + dt.timedelta(hours=h) for h in range(6)]
        endpoint = {
            "prices": [
                {"from": hours[0], "to": hours[1], "prompt": "0.000001"},
                {"from": hours[2], "to": hours[5], "prompt": "0.000003"},
            ],
            "metrics": [],
        }
        steps = endpoint_steps(endpoint, "prompt", gaps=[hours[3]])
        assert [(s.start, s.end, s.price, s.changed) for s in steps] == [
            (hours[0], hours[2], Decimal("1"), False),
            (hours[2], hours[3], Decimal("3"), True),
            (hours[4], hours[5] + dt.timedelta(hours=1), Decimal("3"), False),
        ]
