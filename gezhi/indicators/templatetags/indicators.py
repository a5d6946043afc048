from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """A rate (0–1) as a percentage with one decimal; a dash when there is nothing to rate."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def hours(value) -> str:
    return "—" if value is None else f"{value:.1f}"


@register.filter
def get(row: dict, key: str):
    return row.get(key)
