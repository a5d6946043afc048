"""Console forms for people. They only parse input; the rules live in gezhi.people.services
(clean_person is shared with imports), whose errors are put back on the named field."""

from django import forms
from django.utils.translation import gettext_lazy as _

from gezhi.core.errors import GezhiError
from gezhi.people.codes import ETHNICITIES, IdType, PoliticalStatus, ResidenceType, Sex

REVEAL_REASONS = [_("入户走访联系"), _("核实身份信息"), _("事件处置联系"), _("帮扶救助办理")]


def blank(choices):
    return [("", _("未填写")), *choices]


class PersonForm(forms.Form):
    """Edit a person. ID and phone numbers are never put into the form (that would show the
    plaintext without a logged reveal): a blank box keeps the stored number."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices)
    id_number = forms.CharField(
        label=_("证件号码"), required=False, max_length=30,
        help_text=_("留空则保留原号码;填写则替换。居民身份证的出生日期和性别由号码得出。"))
    sex = forms.ChoiceField(label=_("性别"), choices=blank(Sex.choices), required=False,
                            help_text=_("居民身份证由号码得出,无需填写。"))
    birth_date = forms.DateField(label=_("出生日期"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("居民身份证由号码得出,无需填写。"))
    ethnicity = forms.ChoiceField(label=_("民族"), choices=blank(ETHNICITIES), required=False)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=20,
                            help_text=_("留空则保留原号码;填写则替换。"),
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "autocomplete": "off"}))
    political_status = forms.ChoiceField(label=_("政治面貌"), required=False,
                                         choices=blank(PoliticalStatus.choices))
    residence_type = forms.ChoiceField(label=_("人口类型"), choices=ResidenceType.choices)
    employer = forms.CharField(label=_("工作单位"), max_length=150, required=False)
    notes = forms.CharField(label=_("备注"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    grid = forms.ChoiceField(label=_("所属网格"))

    def __init__(self, *args, grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = {g.code: g for g in grids}
        self.fields["grid"].choices = [(g.code, f"{g.parent.name if g.parent_id else ''} "
                                                f"{g.name}".strip()) for g in grids]
        self.fields["id_number"].widget.attrs["autocomplete"] = "off"

    def changes(self) -> dict:
        """Keyword arguments for person_update: only what the form may change."""
        data = self.cleaned_data
        fields = {name: data[name] for name in (
            "name", "id_type", "ethnicity", "political_status", "residence_type", "employer",
            "notes")}
        if data["id_number"].strip():
            fields["id_number"] = data["id_number"]
        if data["phone"].strip():
            fields["phone"] = data["phone"]
        if data["id_type"] != IdType.RESIDENT_ID:
            fields["sex"] = data["sex"]
            fields["birth_date"] = data["birth_date"]
        return fields

    def grid_region(self):
        return self.grids.get(self.cleaned_data["grid"])

    def add_service_error(self, error: GezhiError) -> None:
        field = error.details.get("field")
        self.add_error(field if field in self.fields else None, str(error.message))


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", _("证件号码")), ("phone", _("联系电话")),
                                       ("contact_phone", _("联系电话"))])
    reason = forms.CharField(label=_("查看事由"), max_length=200, required=False)


class TagAddForm(forms.Form):
    tag = forms.CharField(label=_("标签"))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)
