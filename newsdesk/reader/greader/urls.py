from django.urls import path, re_path

from newsdesk.reader.greader import views

app_name = "greader"
api = "reader/api/0/"
urlpatterns = [
    path("accounts/ClientLogin", views.client_login_view, name="client-login"),
    path(f"{api}token", views.token, name="token"),
    path(f"{api}user-info", views.user_info, name="user-info"),
    path(f"{api}subscription/list", views.subscription_list, name="subscription-list"),
    path(f"{api}subscription/edit", views.subscription_edit, name="subscription-edit"),
    path(f"{api}subscription/quickadd", views.quickadd, name="quickadd"),
    path(f"{api}tag/list", views.tag_list, name="tag-list"),
    path(f"{api}unread-count", views.unread_count, name="unread-count"),
    path(f"{api}stream/items/ids", views.stream_item_ids, name="item-ids"),
    path(f"{api}stream/items/contents", views.stream_item_contents, name="item-contents"),
    # The stream id is a path of its own (user/-/state/com.google/reading-list, feed/https://...).
    re_path(rf"^{api}stream/contents/(?P<stream_id>.+)$", views.stream_contents, name="stream-contents"),
    path(f"{api}stream/contents", views.stream_contents, name="stream-contents-query"),
    path(f"{api}edit-tag", views.edit_tag, name="edit-tag"),
    path(f"{api}mark-all-as-read", views.mark_all_as_read, name="mark-all-as-read"),
    path(f"{api}rename-tag", views.rename_tag, name="rename-tag"),
    path(f"{api}disable-tag", views.disable_tag, name="disable-tag"),
    re_path(rf"^{api}(?P<rest>.*)$", views.not_supported, name="not-supported"),
]
