"""docs/events.md prints the rule table (gezhi/events/rules.py): the two must never differ.

When this fails, paste the table printed in the failure message into docs/events.md.
"""

from pathlib import Path

from django.conf import settings
from django.utils import translation

from gezhi.events.models import Op, State
from gezhi.events.rules import RULES

DOC = Path(settings.BASE_DIR).parent / "docs" / "events.md"
HEADER = "| op | 操作 | from states | to state | who | required |"
NONE = "—"


def _cell_list(values) -> str:
    return ", ".join(f"`{v}`" for v in values) if values else NONE


def render() -> str:
    """The table as docs/events.md should print it."""
    with translation.override("zh-hans"):
        lines = [HEADER, "|---|---|---|---|---|---|"]
        for rule in RULES.values():
            lines.append("| " + " | ".join([
                f"`{rule.op}`", str(Op(rule.op).label), _cell_list(rule.from_states),
                f"`{rule.to_state}`" if rule.to_state else NONE,
                ", ".join(rule.actors), _cell_list(rule.required)]) + " |")
    return "\n".join(lines)


def _split(cell: str) -> tuple[str, ...]:
    cell = cell.strip()
    if cell == NONE:
        return ()
    return tuple(part.strip().strip("`") for part in cell.split(","))


def parse(text: str) -> dict[str, tuple]:
    """The rows of the rule table in the markdown: op -> (name, from, to, who, required)."""
    lines = text.splitlines()
    start = lines.index(HEADER)  # ValueError: the table is missing
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, line
        op, name, from_states, to_state, who, required = cells
        rows[op.strip("`")] = (name, _split(from_states),
                               None if to_state == NONE else to_state.strip("`"),
                               _split(who), _split(required))
    return rows


def test_the_documented_table_is_the_rule_table():
    documented = parse(DOC.read_text(encoding="utf-8"))
    with translation.override("zh-hans"):
        expected = {r.op: (str(Op(r.op).label), tuple(r.from_states), r.to_state,
                           tuple(r.actors), tuple(r.required)) for r in RULES.values()}
    assert list(documented) == list(expected), "docs/events.md should read:\n" + render()
    for op, row in expected.items():
        assert documented[op] == row, f"{op} differs; docs/events.md should read:\n{render()}"


def test_the_parser_notices_a_difference():
    table = render()
    assert parse(table) == parse(render())
    changed = table.replace("| `close` | 结案 | `verified` |", "| `close` | 结案 | `handled` |")
    assert changed != table and parse(changed)["close"] != parse(table)["close"]
    dropped = "\n".join(line for line in table.splitlines() if "`merge`" not in line)
    assert "merge" not in parse(dropped)


def test_every_state_and_operation_is_named_in_the_doc():
    text = DOC.read_text(encoding="utf-8")
    for state in State.values:
        assert f"`{state}`" in text, state
    for op in Op.values:
        assert f"`{op}`" in text, op
