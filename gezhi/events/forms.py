"""Console forms for events. They only parse input: what an operation requires, who may do it
and in which state is decided by gezhi.events.services, whose errors are put back on the named
field. Every operation form carries the event version the page was rendered with."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.models import Department
from gezhi.core.errors import GezhiError
from gezhi.events.models import Op, Rating, Source, SupervisionLevel
from gezhi.events.rules import RULES
from gezhi.events.services import MAX_TEXT, Intake

# The fields each operation's form shows, named after the service's keyword arguments.
OP_FIELDS: dict[str, tuple[str, ...]] = {
    Op.ACCEPT: ("note",),
    Op.REJECT: ("note",),
    Op.SELF_RESOLVE: ("note", "photos"),
    Op.DISPATCH: ("unit", "assist", "note"),
    Op.CLAIM: (),
    Op.HANDLE: ("note", "photos"),
    Op.RETURN: ("note",),
    Op.VERIFY: ("note",),
    Op.VERIFY_FAIL: ("note",),
    Op.CLOSE: ("note",),
    Op.REOPEN: ("note",),
    Op.ESCALATE: ("note",),
    Op.EXTEND_REQUEST: ("days", "note"),
    Op.EXTEND_DECIDE: ("approve", "note"),
    Op.SUSPEND: ("note",),
    Op.RESUME: ("note",),
    Op.SUPERVISE: ("level", "note"),
    Op.MERGE: ("master", "note"),
    Op.RATE: ("rating", "note"),
    Op.COMMENT: ("note",),
}

NOTE_LABELS = {
    Op.REJECT: _("不予受理理由"),
    Op.SELF_RESOLVE: _("处置结果"),
    Op.HANDLE: _("处置结果"),
    Op.RETURN: _("退回理由"),
    Op.VERIFY_FAIL: _("不通过原因"),
    Op.REOPEN: _("返工原因"),
    Op.ESCALATE: _("上报原因"),
    Op.EXTEND_REQUEST: _("延期理由"),
    Op.EXTEND_DECIDE: _("审批意见"),
    Op.SUSPEND: _("缓办理由"),
    Op.SUPERVISE: _("督办意见"),
    Op.RATE: _("评价意见"),
    Op.COMMENT: _("留言内容"),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; gezhi.events.photos checks that each is an image."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def unit_value(unit) -> str:
    kind = "department" if isinstance(unit, Department) else "region"
    return f"{kind}:{unit.pk}"


class OpForm(forms.Form):
    """One operation on one event. Fields are prefixed with the operation, so every allowed
    operation's form can sit on the event page at once."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, op: str, departments=(), regions=(), **kwargs):
        super().__init__(*args, prefix=op, **kwargs)
        self.op = op
        self.op_label = Op(op).label
        self.op_fields = OP_FIELDS[op]
        required = set(RULES[op].required)
        self.units = {unit_value(u): u for u in [*departments, *regions]}
        self.assist_units = {unit_value(d): d for d in departments}
        for name in self.op_fields:
            self.fields[name] = self._field(name, op, required, departments, regions)

    @staticmethod
    def _field(name: str, op: str, required: set, departments, regions) -> forms.Field:
        # Only the parsing happens here: a missing required value is reported by the service,
        # with the message that names what is missing (e.g. 不予受理须说明理由).
        if name == "note":
            label = NOTE_LABELS.get(op, _("说明(选填)"))
            attrs = {"rows": 3, "maxlength": MAX_TEXT}
            if "note" in required:
                attrs["required"] = True
            return forms.CharField(label=label, required=False, max_length=MAX_TEXT,
                                   widget=forms.Textarea(attrs=attrs))
        if name == "photos":
            return PhotosField(label=_("处置结果照片") if op != Op.COMMENT else _("照片"))
        if name == "unit":
            groups = []
            if departments:
                groups.append((_("职能部门"), [(unit_value(d), d.name) for d in departments]))
            if regions:
                groups.append((_("社区/网格"), [(unit_value(r), f"{r.get_level_display()} "
                                                                f"{r.name}") for r in regions]))
            return forms.ChoiceField(label=_("主办单位"), required=False,
                                     choices=[("", _("请选择"))] + groups)
        if name == "assist":
            return forms.MultipleChoiceField(
                label=_("协办部门(可多选)"), required=False,
                choices=[(unit_value(d), d.name) for d in departments],
                widget=forms.CheckboxSelectMultiple)
        if name == "days":
            return forms.IntegerField(label=_("延期工作日数"), required=False,
                                      widget=forms.NumberInput(attrs={"min": 1, "max": 60,
                                                                      "required": True}))
        if name == "approve":
            return forms.ChoiceField(
                label=_("审批结果"), widget=forms.RadioSelect,
                choices=[("yes", _("批准")), ("no", _("不批准"))],
                error_messages={"required": _("请选择批准或不批准。")})
        if name == "level":
            return forms.TypedChoiceField(label=_("督办级别"), coerce=int,
                                          choices=SupervisionLevel.choices,
                                          initial=SupervisionLevel.NORMAL,
                                          widget=forms.RadioSelect)
        if name == "rating":
            return forms.ChoiceField(label=_("评价"), required=False, widget=forms.RadioSelect,
                                     choices=Rating.choices)
        if name == "master":
            return forms.CharField(label=_("并入事件编号"), required=False, max_length=32)
        raise ValueError(name)

    def visible(self) -> list:
        return [self[name] for name in self.op_fields]

    def service_kwargs(self) -> dict:
        """Keyword arguments for the operation's service (the merge master still a serial)."""
        data = self.cleaned_data
        kwargs: dict = {}
        for name in self.op_fields:
            if name == "unit":
                unit = self.units.get(data["unit"])
                kwargs["department"] = unit if isinstance(unit, Department) else None
                kwargs["region"] = None if unit is None or isinstance(unit, Department) else unit
            elif name == "assist":
                kwargs["assist"] = [self.assist_units[v] for v in data["assist"]]
            elif name == "approve":
                kwargs["approve"] = data["approve"] == "yes"
            elif name == "days":
                kwargs["days"] = data["days"] or 0
            else:
                kwargs[name] = data[name]
        return kwargs

    def add_service_error(self, error: GezhiError) -> None:
        field = error.details.get("field")
        self.add_error(field if field in self.fields else None, str(error.message))


REPORT_SOURCES = [Source.PATROL, Source.VISIT, Source.HOTLINE, Source.CITY_MANAGEMENT,
                  Source.VIDEO, Source.DEPARTMENT, Source.WECHAT]


class ReportForm(forms.Form):
    """上报 from the console. `client_id` is fixed when the page is rendered, so sending the
    same form twice (a double tap, a retry on a bad connection) makes one event."""

    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    category = forms.ChoiceField(label=_("事件分类"), required=False)
    description = forms.CharField(label=_("问题描述"), required=False, max_length=MAX_TEXT,
                                  widget=forms.Textarea(attrs={"rows": 4, "required": True}))
    lat = forms.FloatField(label=_("纬度"), required=False,
                           widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lon = forms.FloatField(label=_("经度"), required=False,
                           widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    address = forms.CharField(label=_("地址"), required=False, max_length=200)
    source = forms.ChoiceField(label=_("来源"), choices=[(s.value, s.label) for s in REPORT_SOURCES],
                               initial=Source.PATROL)
    urgent = forms.BooleanField(label=_("紧急"), required=False,
                                help_text=_("不勾选时按分类规定(如路面塌陷、燃气泄漏默认紧急)。"))
    photos = PhotosField(label=_("现场照片(可多张)"))
    contact_name = forms.CharField(label=_("联系人"), required=False, max_length=50)
    contact_phone = forms.CharField(label=_("联系电话"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"inputmode": "tel"}))
    self_resolve = forms.BooleanField(label=_("已自行处置"), required=False,
                                      help_text=_("当场已解决的问题,填写处置结果后直接结案。"))
    result = forms.CharField(label=_("处置结果"), required=False, max_length=MAX_TEXT,
                             widget=forms.Textarea(attrs={"rows": 3}))
    result_photos = PhotosField(label=_("处置结果照片"))

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = {c.code: c for c in categories}
        groups: dict = {}
        for c in categories:
            groups.setdefault(c.parent, []).append((c.code, f"{c.code} {c.name}"))
        self.fields["category"].choices = [("", _("请选择小类"))] + [
            (f"{parent.code} {parent.name}", children) for parent, children in groups.items()]
        if not self.is_bound and "client_id" not in self.initial:
            self.initial["client_id"] = uuid.uuid4()

    def intake(self) -> Intake:
        data = self.cleaned_data
        return Intake(
            category=self.categories.get(data["category"]), description=data["description"],
            lat=data["lat"], lon=data["lon"], source=data["source"], address=data["address"],
            urgent=True if data["urgent"] else None, contact_name=data["contact_name"],
            contact_phone=data["contact_phone"], client_id=data["client_id"],
            photos=data["photos"], self_resolve=data["self_resolve"], result=data["result"],
            result_photos=data["result_photos"] if data["self_resolve"] else [])

    def add_service_error(self, error: GezhiError) -> None:
        field = {"location": "lat"}.get(error.details.get("field"), error.details.get("field"))
        self.add_error(field if field in self.fields else None, str(error.message))
