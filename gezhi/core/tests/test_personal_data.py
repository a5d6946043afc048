"""Personal data at rest (DESIGN.md): encrypted, blind-indexed, masked; keys from the
environment or generated into the data dir."""

import pytest

from gezhi.core import crypto
from gezhi.core.errors import ValidationFailed
from gezhi.core.validators import (
    id_check_digit,
    mask_id_number,
    mask_phone,
    normalise_credit_code,
    normalise_id_number,
    normalise_phone,
)


@pytest.fixture
def data_key(monkeypatch):
    monkeypatch.setenv("GEZHI_DATA_KEY", "11" * 32)
    crypto.reset_keys_cache()
    yield
    crypto.reset_keys_cache()


def test_round_trip_and_fresh_nonce(data_key):
    first, second = crypto.encrypt("13806321111"), crypto.encrypt("13806321111")
    assert first != second and first.startswith("s1:")
    assert crypto.decrypt(first) == crypto.decrypt(second) == "13806321111"


def test_tampered_or_foreign_ciphertext_is_refused(data_key, monkeypatch):
    token = crypto.encrypt("370481194503020027")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered)
    monkeypatch.setenv("GEZHI_DATA_KEY", "22" * 32)
    crypto.reset_keys_cache()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_blind_index_is_keyed_and_separates_kinds(data_key, monkeypatch):
    one = crypto.blind_index("13806321111", kind="phone")
    assert one == crypto.blind_index("13806321111", kind="phone")
    assert one != crypto.blind_index("13806321111", kind="id_number")
    monkeypatch.setenv("GEZHI_DATA_KEY", "22" * 32)
    crypto.reset_keys_cache()
    assert one != crypto.blind_index("13806321111", kind="phone")


def test_generated_key_lives_in_the_data_dir(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("GEZHI_DATA_KEY", raising=False)
    settings.DATA_DIR = tmp_path
    crypto.reset_keys_cache()
    try:
        token = crypto.encrypt("x")
        key_file = tmp_path / "data_key"
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        crypto.reset_keys_cache()
        assert crypto.decrypt(token) == "x"
    finally:
        crypto.reset_keys_cache()


def test_gb11643_id_numbers(settings):
    assert id_check_digit("11010519491231002") == "X"
    assert normalise_id_number(" 11010519491231002x ") == "11010519491231002X"
    for bad in ["11010519491231002Y", "110105194912310021", "11010519491331002X"]:
        with pytest.raises(ValidationFailed):
            normalise_id_number(bad)


def test_credit_codes_and_phones():
    assert normalise_credit_code("91350100m000100y43") == "91350100M000100Y43"
    with pytest.raises(ValidationFailed):
        normalise_credit_code("91350100M000100Y44")
    assert normalise_phone("+86 138 0632 1111") == "13806321111"
    assert normalise_phone("0632-5512345") == "0632-5512345"
    with pytest.raises(ValidationFailed):
        normalise_phone("12345")


def test_masks():
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("13806321111") == "138****1111"
    assert mask_phone("0632-5512345") == "0632-***2345"
