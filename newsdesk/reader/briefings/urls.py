"""Briefings and alerts, included under /reading/ (newsdesk/urls.py): /reading/briefing/...
and /reading/notifications/..."""

from django.urls import path

from newsdesk.reader.briefings import feeds, views

app_name = "briefings"
urlpatterns = [
    path("briefing/", views.briefing, name="briefing"),
    path("briefing/seen/", views.briefing_seen, name="briefing-seen"),
    path("briefing/day/<str:day>/", views.briefing_day, name="briefing-day"),
    path("briefing/settings/", views.settings_page, name="settings"),
    path("briefing/settings/feed/", views.feed_token, name="feed-token"),
    path("briefing/feed/<str:token>/rss", feeds.BriefingFeed(), name="feed-rss"),
    path("briefing/feed/<str:token>/atom", feeds.AtomBriefingFeed(), name="feed-atom"),
    path("briefing/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]
