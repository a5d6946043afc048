"""`gezhi indicators-rebuild`: recompute the indicator rollups from the events.

Every operation keeps the rollups in step by itself; rebuild after moving a grid to another
community (the rollups sum each grid into its community) or after loading events in bulk.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from gezhi.indicators.rollup import rebuild


class Command(BaseCommand):
    help = "从事件重建指标汇总 / Rebuild the indicator rollups from the events"

    def handle(self, *args, **options):
        started = time.monotonic()
        rows = rebuild()
        self.stdout.write(f"{rows:,} 行 rollup rows · {time.monotonic() - started:.1f} s")
