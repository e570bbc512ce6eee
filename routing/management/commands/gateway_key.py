"""Gateway keys for /v1/: `issue NAME` (the key is printed once), `revoke PREFIX_OR_ID`, `list`."""

from django.core.management.base import BaseCommand, CommandError

from routing.access import gateway_key_issue, gateway_keys_revoke
from routing.models import GatewayKey


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        issue = actions.add_parser("issue", help="issue a key; it is printed once and never stored")
        issue.add_argument("name", help="who or what uses it")
        revoke = actions.add_parser("revoke", help="revoke a key by its id or its prefix (as `list` shows)")
        revoke.add_argument("key", help="the key's id or prefix")
        actions.add_parser("list", help="every key: id, prefix, name, created, revoked")

    def handle(self, *args, action: str, **options):
        if action == "issue":
            name = options["name"].strip()
            if not name or len(name) > GatewayKey._meta.get_field("name").max_length:
                raise CommandError("name: give 1 to 100 characters")
            key = GatewayKey(name=name)
            raw = gateway_key_issue(key=key)
            self.stderr.write(
                f"gateway key #{key.pk} for {name!r} (prefix {key.prefix}); copy it now, it is not "
                "stored and will not be shown again:"
            )
            self.stdout.write(raw)
        elif action == "revoke":
            wanted = options["key"].strip()
            keys = (
                GatewayKey.objects.filter(pk=int(wanted))
                if wanted.isdigit()
                else GatewayKey.objects.filter(prefix=wanted)
            )
            if not keys.exists():
                raise CommandError(f"key: no gateway key has the id or prefix {wanted[:40]!r} (see `gateway_key list`)")
            self.stdout.write(f"{gateway_keys_revoke(keys=keys)} gateway key(s) revoked")
        else:
            for key in GatewayKey.objects.order_by("pk"):
                revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
                self.stdout.write(f"{key.pk}\t{key.prefix}\t{key.name}\t{key.created_at:%Y-%m-%d %H:%M}\t{revoked}")
