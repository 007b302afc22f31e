from django.urls import path

from newsdesk.reader import views

app_name = "reader"
urlpatterns = [
    path("", views.unread, name="unread"),
    path("saved/", views.saved_page, name="saved"),
    path("history/", views.history, name="history"),
    path("following/", views.following, name="following"),
    path("for-you/", views.for_you, name="for-you"),
    path("for-you/how/", views.for_you_how, name="for-you-how"),
    path("interest/", views.interest, name="interest"),
    path("nudge/<int:pk>/", views.nudge, name="nudge"),
    path("apps/", views.apps, name="apps"),
    path("apps/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("follow/<slug:slug>/", views.follow, name="follow"),
    path("unfollow/<slug:slug>/", views.unfollow, name="unfollow"),
    path("save/<int:pk>/", views.save, name="save"),
    path("unsave/<int:pk>/", views.unsave, name="unsave"),
    path("read/", views.mark_read, name="mark-read"),
    path("unread/", views.mark_unread, name="mark-unread"),
    path("history/clear/", views.clear_history, name="clear-history"),
    path("history/switch/", views.switch_history, name="switch-history"),
]
