from django import forms
from django.utils.translation import gettext_lazy as _

from gezhi.dataio.models import ImportKind, ImportMode


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入类型"), choices=ImportKind.choices,
                             error_messages={"required": _("请选择导入类型。")})
    file = forms.FileField(label=_("文件(xlsx 或 CSV)"),
                           help_text=_("用导入模板填写的 xlsx,或从 Excel/WPS 另存的 CSV(UTF-8 或 GBK)。"),
                           error_messages={"required": _("请选择要上传的文件。"),
                                           "empty": _("文件是空的:没有表头,也没有数据。")})
    mode = forms.ChoiceField(label=_("导入方式"), choices=[
        (ImportMode.DRY_RUN, _("仅检查,不写入(试运行)")),
        (ImportMode.ALL, _("全部无误才写入:有任何一行有问题,就一行也不写入")),
        (ImportMode.VALID, _("只写入无误的行:有问题的行列出,不导入")),
    ], initial=ImportMode.ALL, widget=forms.RadioSelect)
    default_grid = forms.ChoiceField(
        label=_("默认网格"), required=False,
        help_text=_("没有填写网格编码、也没有住址或经纬度的行,归入此网格。"))

    def __init__(self, *args, grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = {g.code: g for g in grids}
        self.fields["default_grid"].choices = [("", _("不指定"))] + [
            (g.code, _("%(name)s(%(code)s)") % {"name": g.name, "code": g.code}) for g in grids]

    def grid(self):
        return self.grids.get(self.cleaned_data.get("default_grid") or "")


class PlaintextExportForm(forms.Form):
    reason = forms.CharField(label=_("明文导出事由"), max_length=200,
                             error_messages={"required": _("明文导出须填写事由。")},
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
