"""JSON API of field work: diary entries, household visits, patrols, visit coverage."""

from ninja import Router

router = Router(tags=["fieldwork 民情日记·走访·巡查"])
