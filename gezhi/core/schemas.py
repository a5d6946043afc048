"""API schemas shared by every router."""

from ninja import Schema
from pydantic import model_validator


class ErrorOut(Schema):
    """The one error shape (see gezhi.core.errors)."""

    code: str
    message: str
    details: dict


class FormSchema(Schema):
    """A multipart form's fields: every field arrives as text, so an empty one counts as not
    sent (an optional number or date left blank is missing, not invalid)."""

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data):
        # Ninja hands before-validators its DjangoGetter wrapper of the form's dict.
        values = getattr(data, "_obj", data)
        if isinstance(values, dict):
            return {k: v for k, v in values.items() if v != "" and v != [""]}
        return data
