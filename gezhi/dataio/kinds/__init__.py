"""Import kinds by name: people, houses, orgs, components."""

from gezhi.dataio.kinds.components import ComponentImport
from gezhi.dataio.kinds.houses import HouseImport
from gezhi.dataio.kinds.orgs import OrgImport
from gezhi.dataio.kinds.people import PeopleImport

KINDS = {cls.kind: cls for cls in (PeopleImport, HouseImport, OrgImport, ComponentImport)}
