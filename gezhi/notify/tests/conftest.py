import pytest

from gezhi.events.tests.conftest import category, report  # noqa: F401
from gezhi.notify.tests import senders


@pytest.fixture
def sent(settings, tmp_path):
    """Deliveries of the recording sender, which the outbox uses in these tests."""
    settings.GEZHI_NOTIFY_SENDER = "gezhi.notify.tests.senders.RecordingSender"
    settings.MEDIA_ROOT = tmp_path
    senders.sent.clear()
    yield senders.sent
    senders.sent.clear()
