"""API schemas shared by every router."""

from ninja import Schema


class ErrorOut(Schema):
    """The one error shape (see gezhi.core.errors)."""

    code: str
    message: str
    details: dict
