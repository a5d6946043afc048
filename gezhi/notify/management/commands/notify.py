"""`gezhi notify`: send what is due in the outbox (消息发件箱).

Messages are sent right after the operation that wrote them commits; this command sends what
that first attempt could not (the sender failed or the process stopped), with back-off between
attempts (2, 4, 8 … minutes), and marks a message failed after MAX_ATTEMPTS. Run it from a timer,
e.g. every minute (systemd timer or cron: `gezhi notify`).
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from gezhi.notify.services import MAX_ATTEMPTS, messages_send


class Command(BaseCommand):
    help = ("发送发件箱中到期的消息并重试失败的消息 / Send due messages from the outbox, retrying "
            f"failed ones with back-off (failed after {MAX_ATTEMPTS} attempts). Run from a "
            "timer, e.g. every minute.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500,
                            help="本次最多发送条数 / at most this many messages (default 500)")

    def handle(self, *args, limit: int, **options):
        counts = messages_send(limit=limit)
        self.stdout.write(_("已发送 %(sent)s 条,待重试 %(retry)s 条,失败 %(failed)s 条。") % counts)
