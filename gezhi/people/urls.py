from django.urls import path

from gezhi.accounts import views as accounts_views
from gezhi.people import views

app_name = "people"

urlpatterns = [
    path("", views.person_list_page, name="list"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/edit/", views.person_edit, name="edit"),
    path("<int:pk>/reveal/", views.person_reveal, name="reveal"),
    path("<int:pk>/tags/", views.person_tag_add_view, name="tag_add"),
    path("<int:pk>/tags/<int:tag_pk>/remove/", views.person_tag_remove_view, name="tag_remove"),
    # 个人信息访问日志: who revealed, exported, imported or viewed special-group data.
    path("access-log/", accounts_views.access_log, name="access_log"),
]
