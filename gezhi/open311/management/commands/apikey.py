from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gezhi.core.errors import GezhiError
from gezhi.events.models import ApiKey, Source
from gezhi.open311.services import KEY_SOURCES, apikey_create, apikey_revoke


class Command(BaseCommand):
    help = "Open311 API keys: create (the key is printed once), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True, help="the application, e.g. '12345 热线'")
        create.add_argument("--source", default=Source.API, choices=[s.value for s in KEY_SOURCES],
                            help="source of the events it submits (12345 for the hotline)")
        sub.add_parser("list", help="list keys (prefix, name, source, state)")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix", help="the first 8 characters of the key (see list)")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except GezhiError as exc:
            raise CommandError(str(exc.message)) from exc

    def _create(self, *, name: str, source: str, **options):
        key, raw = apikey_create(name=name, source=source)
        self.stdout.write(raw)
        self.stderr.write(f"created key {key.prefix}… for {key.name!r} (source {key.source}); "
                          "it is shown only this once: store it now")

    def _list(self, **options):
        for key in ApiKey.objects.order_by("created_at"):
            state = "active"
            if key.revoked_at:
                state = f"revoked {timezone.localtime(key.revoked_at):%Y-%m-%d %H:%M}"
            self.stdout.write(f"{key.prefix}\t{key.source}\t{state}\t{key.name}")

    def _revoke(self, *, prefix: str, **options):
        key = apikey_revoke(prefix=prefix)
        self.stdout.write(f"revoked {key.prefix}… ({key.name}) "
                          f"at {timezone.localtime(key.revoked_at):%Y-%m-%d %H:%M}")
