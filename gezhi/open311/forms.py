from django import forms
from django.utils.translation import gettext_lazy as _

from gezhi.events.models import Source
from gezhi.open311.services import KEY_SOURCES


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("应用名称"), max_length=100,
                           help_text=_("例如:12345 政务服务热线工单系统"))
    source = forms.ChoiceField(
        label=_("事件来源"), choices=[(s.value, s.label) for s in KEY_SOURCES],
        initial=Source.API,
        help_text=_("经此密钥提交的事件记为该来源;12345 热线工单请选“12345热线”。"))
