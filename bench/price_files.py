"""The price feeds' published documents, built from the source files in ../shared/realdata.

models.dev publishes `api.json` and genai-prices `prices/data.json`; realdata holds the files they are built from
(models.dev's per-provider TOMLs, genai-prices' per-provider YAMLs, see realdata's SOURCES.md). These builders put
them back into the published shapes, so the bench (bench/prices.py) serves the full real data to the real feed
adapters, and the small slices in tests/fixtures/prices were cut the same way (its README):

    .venv/bin/python bench/price_files.py models.dev OUT.json [provider …]
    .venv/bin/python bench/price_files.py genai-prices OUT.json [provider-file-stem …]

Data only, values unchanged: models.dev drops `benchmarks`, genai-prices drops `extractors` and writes its dates
as ISO strings. Written with `json.dumps(indent=1)` and a final newline, like the fixtures.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"
MODELSDEV_PROVIDERS = REALDATA / "models.dev" / "providers"
GENAI_PROVIDERS = REALDATA / "genai-prices" / "providers"
# provider.toml keys in the order api.json states them (`api` only where the provider has one).
PROVIDER_KEYS = ("name", "env", "npm", "doc", "api")


def modelsdev_provider(folder: Path) -> dict[str, Any]:
    """One provider of api.json: `{id, name, env, npm, doc, api?, models: {model id: {id, …model TOML…}}}`.

    A model's id is its path under `models/` without `.toml` (sub-folders are part of the id); models in path order.
    """
    with open(folder / "provider.toml", "rb") as file:
        stated = tomllib.load(file)
    provider: dict[str, Any] = {"id": folder.name}
    provider.update((key, stated[key]) for key in PROVIDER_KEYS if key in stated)
    provider.update((key, value) for key, value in stated.items() if key not in provider)
    models: dict[str, Any] = {}
    root = folder / "models"
    for path in sorted(root.rglob("*.toml"), key=lambda p: p.relative_to(root).as_posix()):
        model_id = path.relative_to(root).with_suffix("").as_posix()
        with open(path, "rb") as file:
            model = tomllib.load(file)
        model.pop("benchmarks", None)
        models[model_id] = {"id": model_id, **model}
    provider["models"] = models
    return provider


def modelsdev_api(providers: Iterable[str] | None = None, source: Path = MODELSDEV_PROVIDERS) -> dict[str, Any]:
    """models.dev's `api.json` for the named providers (in that order), or every provider folder (sorted)."""
    names = list(providers) if providers is not None else sorted(p.name for p in source.iterdir() if p.is_dir())
    return {name: modelsdev_provider(source / name) for name in names}


def _iso_dates(value: Any) -> Any:
    """YAML dates and datetimes (and those nested in lists and mappings) as ISO strings, the way data.json has them."""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso_dates(item) for item in value]
    return value


def genai_provider(path: Path) -> dict[str, Any]:
    """One provider of genai-prices' `data.json`: the YAML as stated, less `extractors`, dates as ISO strings."""
    with open(path, encoding="utf-8") as file:
        provider = yaml.safe_load(file)
    provider.pop("extractors", None)
    return _iso_dates(provider)


def genai_data(stems: Iterable[str] | None = None, source: Path = GENAI_PROVIDERS) -> list[dict[str, Any]]:
    """genai-prices' `prices/data.json` for the named provider files (`x_ai` = x_ai.yml), or every `*.yml`, sorted."""
    paths = [source / f"{stem}.yml" for stem in stems] if stems is not None else sorted(source.glob("*.yml"))
    return [genai_provider(path) for path in paths]


def document_bytes(document: Any) -> bytes:
    """A document as the fixtures are written: `json.dumps(indent=1)` and a final newline."""
    return (json.dumps(document, indent=1) + "\n").encode()


def modelsdev_api_bytes(providers: Iterable[str] | None = None) -> bytes:
    return document_bytes(modelsdev_api(providers))


def genai_data_bytes(stems: Iterable[str] | None = None) -> bytes:
    return document_bytes(genai_data(stems))


def write_feed_files(directory: Path | None = None) -> dict[str, Path]:
    """Write the full `api.json` and `data.json` into `directory` (a new temporary one when None): feed name → file."""
    directory = Path(directory or tempfile.mkdtemp(prefix="price-feeds-"))
    files = {"models.dev": directory / "api.json", "genai-prices": directory / "data.json"}
    files["models.dev"].write_bytes(modelsdev_api_bytes())
    files["genai-prices"].write_bytes(genai_data_bytes())
    return files


def realdata_available() -> bool:
    """Whether ../shared/realdata has both feeds' source files (a clone without ../shared has not)."""
    return MODELSDEV_PROVIDERS.is_dir() and GENAI_PROVIDERS.is_dir()


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] not in ("models.dev", "genai-prices"):
        raise SystemExit(__doc__)
    feed, out, names = argv[0], Path(argv[1]), argv[2:] or None
    out.write_bytes(modelsdev_api_bytes(names) if feed == "models.dev" else genai_data_bytes(names))
    print(f"{feed}: wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
