"""The current time, as the event loop sees it. Tests (and a demo of overdue events) can set
it still with `frozen(moment)`; everything else reads `now()`."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


@contextlib.contextmanager
def frozen(moment: dt.datetime):
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous


def freeze(moment: dt.datetime | None) -> None:
    global _frozen
    _frozen = moment
