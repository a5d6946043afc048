import json

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class BoundaryImportForm(forms.Form):
    file = forms.FileField(
        label=_("边界文件(GeoJSON)"),
        help_text=_("一个 FeatureCollection,每个要素的 properties 中含网格编码 code。"),
        error_messages={"required": _("请选择要导入的 GeoJSON 文件。")},
        widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json,application/geo+json,application/json"}),
    )
    dry_run = forms.BooleanField(
        label=_("仅检查,不写入(试运行)"), required=False, initial=True,
        help_text=_("先试运行查看将新增、更新的网格和发现的问题,确认无误后再取消勾选正式导入。"))

    def clean_file(self):
        """The parsed JSON; whether it is a usable FeatureCollection is the import's to say."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件过大(上限 20 MB)。"))
        raw = upload.read()
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("文件不是 UTF-8 编码的文本,请导出为 GeoJSON 后再上传。")) from None
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("文件不是有效的 JSON:第 %(line)d 行第 %(col)d 列附近有错误(%(msg)s)。"),
                params={"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from None
        return data
