from django.contrib import admin

from gezhi.core.admin import AdminOnly
from gezhi.party.models import PartyOrg


@admin.register(PartyOrg)
class PartyOrgAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "secretary"]
    list_filter = ["kind"]
    search_fields = ["name"]
    autocomplete_fields = ["region", "parent"]
