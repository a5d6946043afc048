from django.core.management.base import BaseCommand

from gezhi.notify.services import messages_send


class Command(BaseCommand):
    help = "Send due messages from the outbox, retrying failed ones (run from a timer, e.g. " \
           "every minute)."

    def handle(self, *args, **options):
        counts = messages_send()
        self.stdout.write(f"sent {counts['sent']}, to retry {counts['retry']}, "
                          f"failed {counts['failed']}")
