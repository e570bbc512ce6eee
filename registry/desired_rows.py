"""What a registry load wants in the catalogue: each validated file's row values, keyed by natural key (references
still as natural keys). Built one file at a time, as validation hands over each file it found valid, so a load turns
the files already parsed into rows while the rest are still being parsed."""

from __future__ import annotations

import datetime as dt

from ingestion.resolution import RESOLVED_FIELDS
from registry.offer_rows import day_start, offer_price_row, offer_price_values
from registry.validation import RegistryFile

_BARE_ALIAS = {"provider": None, "status": "active", "retirement_date": None}


def iso_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class DesiredRows:
    """`rows` holds {"providers", "families", "models", "aliases", "mappings"}: natural key -> row values. Only
    meaningful once validation passed (a load with problems never writes them)."""

    def __init__(self) -> None:
        self._rows: dict[str, dict] = {name: {} for name in ("providers", "families", "models", "aliases", "mappings")}
        self._error: Exception | None = None
        self._add = {
            "provider": self._provider,
            "family": self._families,
            "model": self._model,
            "mapping": self._mapping,
        }

    def add(self, file: RegistryFile) -> None:
        """Called during validation: a file that cannot be turned into rows must not stop validation from reporting
        every problem, so its error is raised only if the registry turns out valid and its rows are asked for."""
        if self._error is not None:
            return
        try:
            self._add[file.kind](file)
        except Exception as error:  # re-raised by `rows`
            self._error = error

    @property
    def rows(self) -> dict[str, dict]:
        if self._error is not None:
            raise self._error
        return self._rows

    def _provider(self, file: RegistryFile) -> None:
        d = file.data
        self._rows["providers"][(d["slug"],)] = {
            "name": d["name"],
            "kind": d.get("kind", "inference"),
            "website": d.get("website", ""),
            "docs_url": d.get("docs_url", ""),
            "api_base_url": d.get("api_base_url", ""),
            "api_key_env": d.get("api_key_env", ""),
            "openai_compatible": d.get("openai_compatible", False),
            "registry_file": file.relative,
        }

    def _families(self, file: RegistryFile) -> None:
        families = self._rows["families"]
        for d in file.data["families"]:
            families[(d["slug"],)] = {"name": d["name"], "creator": d.get("creator"), "registry_file": file.relative}

    def _model(self, file: RegistryFile) -> None:
        d = file.data
        # Shown values are resolved later against pins and automated observations; keep what the file states.
        self._rows["models"][(d["slug"],)] = {
            "creator": d.get("creator"),
            "family": d.get("family"),
            "registry_values": {field: d[field] for field in RESOLVED_FIELDS if field in d},
            "registry_file": file.relative,
        }
        aliases = self._rows["aliases"]
        for entry in d.get("aliases", []):
            if isinstance(entry, str):  # most aliases: a bare name
                aliases[(entry,)] = {**_BARE_ALIAS, "model": d["slug"], "registry_file": file.relative}
                continue
            aliases[(entry["alias"],)] = {
                "model": d["slug"],
                "provider": entry.get("provider"),
                "status": entry.get("status", "active"),
                "retirement_date": iso_date(entry.get("retirement_date")),
                "registry_file": file.relative,
            }

    def _mapping(self, file: RegistryFile) -> None:
        provider = file.path.parent.name
        mappings = self._rows["mappings"]
        for offer in file.data["offers"]:
            stated = offer_price_values(offer)
            checked = offer.get("prices_checked") or file.data.get("prices_checked")
            if checked:
                stated["prices_checked"] = checked
            mappings[(provider, offer["provider_model_id"])] = {
                "model": file.data["model"],
                **offer_price_row(stated),
                "registry_values": stated,
                "prices_checked": day_start(checked),
                "context_window": offer.get("context_window"),
                "max_output": offer.get("max_output"),
                "quantization": offer.get("quantization", ""),
                "delivery_modes": offer.get("delivery", []),
                "status": offer.get("status", "active"),
                "retirement_date": iso_date(offer.get("retirement_date")),
                "served_by": offer.get("served_by", ""),
                "variant": offer.get("variant", ""),
                "source": "registry",
                "registry_file": file.relative,
            }
