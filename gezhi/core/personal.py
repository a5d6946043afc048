"""Model fields for sensitive personal data: ciphertext, blind index and masked form together.

A sensitive value is three columns, `<name>_ct` (SM4 ciphertext), `<name>_bidx` (blind
index, indexed, for exact lookup) and `<name>_mask` (what lists show), and never a plaintext
column:

    phone_ct, phone_bidx, phone_mask = sensitive_fields(_("联系电话"))
 Set the value with `set_sensitive(obj, name, plaintext, ...)`;
read the plaintext only through the reveal service, which checks permission and logs.
"""

from __future__ import annotations

from django.db import models

from gezhi.core import crypto


def sensitive_fields(verbose_name, *, index: bool = True
                     ) -> tuple[models.Field, models.Field, models.Field]:
    """`index` False: the model declares the blind index's index itself, as a plain
    `models.Index` (`db_index` also gives PostgreSQL a pattern-ops index, useless for a hash)."""
    return (
        models.TextField(blank=True, default="", editable=False),
        models.CharField(max_length=40, blank=True, default="", db_index=index, editable=False),
        models.CharField(verbose_name, max_length=32, blank=True, default="", editable=False),
    )


def set_sensitive(obj, name: str, value: str, *, mask) -> None:
    """Store a normalised plaintext as ciphertext + blind index + masked form."""
    setattr(obj, f"{name}_ct", crypto.encrypt(value) if value else "")
    setattr(obj, f"{name}_bidx", crypto.blind_index(value, kind=name) if value else "")
    setattr(obj, f"{name}_mask", mask(value) if value else "")


def get_sensitive(obj, name: str) -> str:
    return crypto.decrypt(getattr(obj, f"{name}_ct"))


def lookup(name: str, value: str) -> dict:
    """Filter kwargs for an exact match on a sensitive value."""
    return {f"{name}_bidx": crypto.blind_index(value, kind=name)}
