"""Roles (DESIGN.md) and what each may do.

A role assignment is (user, role, scope node); what a role may do is this one table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    LEADER = "leader", _("街道/社区领导")
    DISPATCHER = "dispatcher", _("指挥中心调度员")
    GRID_CHIEF = "grid_chief", _("网格长")
    GRID_WORKER = "grid_worker", _("网格员")
    HANDLER = "handler", _("职能部门处置人员")
    PARTY_MEMBER = "party_member", _("党员/志愿者")
    RESIDENT = "resident", _("居民")


class Perm:
    """Capabilities. A role holds a capability within the scope of its assignment."""

    CONSOLE = "console.view"  # open the staff console, see regions and grids of the scope
    STAFF_VIEW = "staff.view"  # see grid staff lists of the scope (published staff are public anyway)
    REGION_EDIT = "regions.edit"  # edit regions, grid boundaries, grid posts
    REGION_IMPORT = "regions.import"  # import / export grid boundaries
    ACCOUNTS_MANAGE = "accounts.manage"  # accounts, role assignments, code tables (Django admin)
    BASE_VIEW = "base.view"  # see places, people (masked), households, organisations, components
    BASE_EDIT = "base.edit"  # add and change them
    BASE_IMPORT = "base.import"  # import spreadsheets of them
    BASE_EXPORT = "base.export"  # export lists of them (logged)
    REVEAL = "personal.reveal"  # see an ID or phone number in full (logged, with a reason)
    SPECIAL_VIEW = "personal.special"  # see and set special-group tags (特殊人群)
    ACCESS_LOG_VIEW = "audit.view"  # read the access log
    # The event closed loop (事件闭环); docs/events.md has the table of who may do what.
    EVENT_VIEW = "events.view"  # see events of the scope (a department: events it was sent)
    EVENT_REPORT = "events.report"  # report events in the scope, self-resolve them (自行处置)
    EVENT_DISPATCH = "events.dispatch"  # accept, reject, dispatch, close, merge, suspend, reopen
    EVENT_HANDLE = "events.handle"  # as a handling unit: claim, handle, return, ask for more time
    EVENT_VERIFY = "events.verify"  # verify a handled event on the spot (核查)
    EVENT_ESCALATE = "events.escalate"  # hand an event up a level (上报)
    EVENT_SUPERVISE = "events.supervise"  # 督办
    EVENT_EXTEND_DECIDE = "events.extend_decide"  # approve or refuse an extension (延期审批)
    INDICATOR_VIEW = "events.indicators"  # indicator pages and exports
    EVENT_CONFIG = "events.config"  # categories, working calendar, API keys

    FIELD_RECORD = "fieldwork.record"  # keep a diary, record visits and patrols in the scope
    FIELD_VIEW = "fieldwork.view"  # read diaries, visits, patrols and visit coverage of the scope


ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({Perm.CONSOLE, Perm.STAFF_VIEW, Perm.REGION_EDIT, Perm.REGION_IMPORT,
                           Perm.ACCOUNTS_MANAGE, Perm.BASE_VIEW, Perm.BASE_EDIT, Perm.BASE_IMPORT,
                           Perm.BASE_EXPORT, Perm.REVEAL, Perm.SPECIAL_VIEW,
                           Perm.ACCESS_LOG_VIEW, Perm.EVENT_VIEW, Perm.EVENT_REPORT,
                           Perm.EVENT_DISPATCH, Perm.EVENT_VERIFY, Perm.EVENT_ESCALATE,
                           Perm.EVENT_SUPERVISE, Perm.EVENT_EXTEND_DECIDE, Perm.INDICATOR_VIEW,
                           Perm.EVENT_CONFIG, Perm.FIELD_VIEW}),
    Role.LEADER: frozenset({Perm.CONSOLE, Perm.STAFF_VIEW, Perm.REGION_IMPORT, Perm.BASE_VIEW,
                            Perm.BASE_EXPORT, Perm.SPECIAL_VIEW, Perm.EVENT_VIEW,
                            Perm.EVENT_SUPERVISE, Perm.EVENT_EXTEND_DECIDE,
                            Perm.INDICATOR_VIEW, Perm.FIELD_VIEW}),
    Role.DISPATCHER: frozenset({Perm.CONSOLE, Perm.STAFF_VIEW, Perm.BASE_VIEW, Perm.EVENT_VIEW,
                                Perm.EVENT_REPORT, Perm.EVENT_DISPATCH, Perm.EVENT_VERIFY,
                                Perm.EVENT_ESCALATE, Perm.INDICATOR_VIEW}),
    # The grid chief dispatches at community level (社区解) and handles what is sent to the
    # community; the subdistrict's dispatchers take what is escalated (街道帮).
    Role.GRID_CHIEF: frozenset({Perm.CONSOLE, Perm.STAFF_VIEW, Perm.REGION_EDIT, Perm.BASE_VIEW,
                                Perm.BASE_EDIT, Perm.BASE_IMPORT, Perm.BASE_EXPORT, Perm.REVEAL,
                                Perm.SPECIAL_VIEW, Perm.EVENT_VIEW, Perm.EVENT_REPORT,
                                Perm.EVENT_DISPATCH, Perm.EVENT_HANDLE, Perm.EVENT_VERIFY,
                                Perm.EVENT_ESCALATE, Perm.EVENT_EXTEND_DECIDE,
                                Perm.INDICATOR_VIEW, Perm.FIELD_RECORD, Perm.FIELD_VIEW}),
    # Grid workers know their grid's households but special groups (特殊人群) only when a grid
    # chief or leader role grants them; they may reveal a number (logged) to phone a resident.
    Role.GRID_WORKER: frozenset({Perm.CONSOLE, Perm.STAFF_VIEW, Perm.BASE_VIEW, Perm.BASE_EDIT,
                                 Perm.BASE_IMPORT, Perm.REVEAL, Perm.EVENT_VIEW,
                                 Perm.EVENT_REPORT, Perm.EVENT_HANDLE, Perm.EVENT_VERIFY,
                                 Perm.EVENT_ESCALATE, Perm.INDICATOR_VIEW, Perm.FIELD_RECORD,
                                 Perm.FIELD_VIEW}),
    Role.HANDLER: frozenset({Perm.CONSOLE, Perm.STAFF_VIEW, Perm.EVENT_VIEW, Perm.EVENT_HANDLE,
                             Perm.INDICATOR_VIEW}),
    Role.PARTY_MEMBER: frozenset(),
    Role.RESIDENT: frozenset(),
}

# Roles whose assignment needs a region node, a department, or neither.
REGION_ROLES = {Role.LEADER, Role.DISPATCHER, Role.GRID_CHIEF, Role.GRID_WORKER,
                Role.PARTY_MEMBER}
DEPARTMENT_ROLES = {Role.HANDLER}

# Capabilities a department holds over its own work only, not over the area it serves: a 城管
# handler sees the events sent to 城管, not every event of the subdistrict, and 城管's row of
# the indicators.
DEPARTMENT_BOUND = {Perm.EVENT_VIEW, Perm.EVENT_HANDLE, Perm.INDICATOR_VIEW}
