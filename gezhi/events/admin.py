"""Admin for the event closed loop's code tables: categories with their time limits and the
working calendar are edited here; events, their timeline and API keys are only shown, because
they change through the services alone (each change with its timeline entry)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gezhi.core.admin import AdminOnly
from gezhi.events.models import ApiKey, CalendarDay, CalendarYear, Category, Event, TimelineEntry


class ReadOnly(AdminOnly):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "parent", "group", "default_department", "urgent",
                  "dispatch_limit_minutes", "handle_limit", "handle_limit_unit",
                  "reopen_on_dissatisfied", "active", "sort_order"]

    def clean(self):
        data = super().clean()
        parent = data.get("parent")
        if parent is not None:
            if parent.parent_id is not None:
                self.add_error("parent", _("大类必须是一级分类,小类下不能再分。"))
            elif self.instance.pk and parent.pk == self.instance.pk:
                self.add_error("parent", _("分类不能以自己为大类。"))
            elif self.instance.pk and self.instance.children.exists():
                self.add_error("parent", _("已有小类的大类不能再归入其他大类。"))
            elif data.get("group") and parent.group != data["group"]:
                self.add_error("group", _("小类的分类体系须与大类一致。"))
        if data.get("handle_limit") == 0:
            self.add_error("handle_limit", _("处置时限须大于 0。"))
        if data.get("dispatch_limit_minutes") == 0:
            self.add_error("dispatch_limit_minutes", _("派遣时限须大于 0。"))
        return data


@admin.register(Category)
class CategoryAdmin(AdminOnly, admin.ModelAdmin):
    """Edits apply to events reported afterwards; deadlines already set stay as they are."""

    form = CategoryForm
    list_display = ["code", "name", "parent", "group", "default_department",
                    "dispatch_limit_minutes", "handle_limit_display", "urgent",
                    "reopen_on_dissatisfied", "active"]
    list_filter = ["group", "urgent", "active", "handle_limit_unit", "parent"]
    list_select_related = ["parent", "default_department"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "default_department"]
    ordering = ["code"]

    @admin.display(description=_("处置时限"), ordering="handle_limit")
    def handle_limit_display(self, obj: Category) -> str:
        return f"{obj.handle_limit} {obj.get_handle_limit_unit_display()}"


@admin.register(CalendarDay)
class CalendarDayAdmin(AdminOnly, admin.ModelAdmin):
    """Saving or deleting an entry resets the working calendar's cache (workcal's signals)."""

    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    search_fields = ["note"]
    date_hierarchy = "date"
    ordering = ["-date"]


@admin.register(CalendarYear)
class CalendarYearAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["year", "note"]
    ordering = ["-year"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnly, admin.ModelAdmin):
    """Keys are made with `gezhi apikey create` or on the console; only the hash is stored and
    it is not shown here either."""

    list_display = ["name", "prefix", "source", "created_by", "created_at", "revoked_at"]
    list_filter = ["source"]
    list_select_related = ["created_by"]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "source", "created_by", "created_at", "revoked_at"]


@admin.register(Event)
class EventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["serial", "category", "state", "level", "grid", "source", "reported_at",
                    "handle_deadline"]
    list_filter = ["state", "level", "source", "urgent"]
    list_select_related = ["category", "grid"]
    search_fields = ["serial", "external_id"]
    show_full_result_count = False  # no second COUNT(*) over millions of events per page
    exclude = ["reporter", "person", "house", "organisation", "api_key", "master"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "event", "op", "actor_name", "from_state", "to_state"]
    list_filter = ["op"]
    list_select_related = ["event", "event__category"]
    search_fields = ["event__serial"]
    show_full_result_count = False
    fields = ["event", "op", "actor_name", "from_state", "to_state", "note", "data",
              "created_at"]
