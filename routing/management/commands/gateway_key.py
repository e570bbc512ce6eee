"""Gateway keys for /v1/: `issue NAME [limits]` (the key is printed once), `limits KEY [limits]`, `revoke KEY`,
`list` (with today's usage). KEY is a key's id or its prefix (as `list` shows).

Limits: `--rpm N` requests over any minute, `--tokens-per-day N` (UTC day), `--budget USD` total spend, each `none` to
remove it; `--capability SLUG` and `--model SLUG` (repeatable) the capabilities and models it may use (none: all),
`--all` lifts them."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Model as CatalogueModel
from routing.access import gateway_key_change, gateway_key_issue, gateway_keys_revoke
from routing.key_usage import gateway_keys_with_usage
from routing.models import Capability, GatewayKey

NONE = "none"


def _whole(name: str):
    def parse(raw: str) -> int | None:
        if raw.lower() == NONE:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{name}: a whole number of at least 1, or `none`")
        return int(raw)

    return parse


def _budget(raw: str) -> Decimal | None:
    if raw.lower() == NONE:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 8:
        raise ValueError("budget: an amount in USD (at least 0, below 100,000,000), or `none`")
    return value


LIMITS = (("rpm", "requests_per_minute", _whole("rpm")), ("tokens_per_day", "tokens_per_day", _whole("tokens-per-day")))


def _add_limits(parser) -> None:
    parser.add_argument("--rpm", help="requests over any 60 seconds, or `none`")
    parser.add_argument("--tokens-per-day", help="prompt and completion tokens per UTC day, or `none`")
    parser.add_argument("--budget", help="total spend in USD at the catalogue's prices, or `none`")
    parser.add_argument("--capability", action="append", default=[], help="a capability it may use (repeatable)")
    parser.add_argument("--model", action="append", default=[], help="a model slug it may use (repeatable)")


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        issue = actions.add_parser("issue", help="issue a key; it is printed once and never stored")
        issue.add_argument("name", help="who or what uses it")
        _add_limits(issue)
        limits = actions.add_parser("limits", help="change a key's limits and scopes (only those given)")
        limits.add_argument("key", help="the key's id or prefix")
        _add_limits(limits)
        limits.add_argument("--all", action="store_true", help="lift its capability and model scopes")
        revoke = actions.add_parser("revoke", help="revoke a key by its id or its prefix (as `list` shows)")
        revoke.add_argument("key", help="the key's id or prefix")
        actions.add_parser("list", help="every key: id, prefix, name, created, state, limits, usage today")

    def handle(self, *args, action: str, **options):
        actions = {"issue": self._issue, "limits": self._change, "revoke": self._revoke, "list": self._list}
        actions[action](options)

    def _issue(self, options) -> None:
        name = options["name"].strip()
        if not name or len(name) > GatewayKey._meta.get_field("name").max_length:
            raise CommandError("name: give 1 to 100 characters")
        changes, capabilities, models = self._limits(options)
        key = GatewayKey(name=name, **changes)
        raw = gateway_key_issue(key=key, capabilities=capabilities, models=models)
        self.stderr.write(
            f"gateway key #{key.pk} for {name!r} (prefix {key.prefix}); copy it now, it is not "
            "stored and will not be shown again:"
        )
        self.stdout.write(raw)

    def _change(self, options) -> None:
        key = self._key(options["key"]).get()
        changes, capabilities, models = self._limits(options)
        if options["all"]:
            capabilities, models = [], []
        try:
            gateway_key_change(key=key, changes=changes, capabilities=capabilities, models=models)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())) from None
        self.stdout.write(f"gateway key #{key.pk} ({key.prefix}): {self._describe(key)}")

    def _revoke(self, options) -> None:
        self.stdout.write(f"{gateway_keys_revoke(keys=self._key(options['key']))} gateway key(s) revoked")

    def _list(self, options) -> None:
        for key in gateway_keys_with_usage().order_by("pk"):
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            usage = f"today {key.requests_today} requests, {key.tokens_today} tokens; spent ${key.spend_total:.6f}"
            self.stdout.write(
                f"{key.pk}\t{key.prefix}\t{key.name}\t{key.created_at:%Y-%m-%d %H:%M}\t{state}\t"
                f"{self._describe(key)}\t{usage}"
            )

    def _key(self, wanted: str):
        wanted = wanted.strip()
        keys = (
            GatewayKey.objects.filter(pk=int(wanted))
            if wanted.isdigit() and len(wanted) < 19
            else GatewayKey.objects.filter(prefix=wanted)
        )
        if not keys.exists():
            raise CommandError(f"key: no gateway key has the id or prefix {wanted[:40]!r} (see `gateway_key list`)")
        return keys

    def _limits(self, options) -> tuple[dict, list | None, list | None]:
        changes = {}
        try:
            for option, field, parse in LIMITS:
                if options.get(option) is not None:
                    changes[field] = parse(options[option])
            if options.get("budget") is not None:
                changes["budget_usd"] = _budget(options["budget"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        capabilities = self._named(Capability, "capability", options["capability"])
        models = self._named(CatalogueModel, "model", options["model"])
        return changes, capabilities, models

    def _named(self, model_class, option: str, slugs: list[str]) -> list | None:
        if not slugs:
            return None
        found = {row.slug: row for row in model_class.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise CommandError(f"{option}: no {option} is called {', '.join(map(repr, missing))}")
        return list(found.values())

    def _describe(self, key: GatewayKey) -> str:
        scopes = [c.slug for c in key.allowed_capabilities.all()] + [m.slug for m in key.allowed_models.all()]
        limits = [
            f"rpm {key.requests_per_minute or '-'}",
            f"tokens/day {key.tokens_per_day or '-'}",
            f"budget {'-' if key.budget_usd is None else f'${key.budget_usd.normalize():f}'}",
        ]
        return f"{', '.join(limits)}; may use {', '.join(scopes) or 'everything'}"
