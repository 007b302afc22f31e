"""The desk, mounted at /desk/ (newsdesk/urls.py)."""

from django.urls import path

from newsdesk.desk import suggest_views, views

app_name = "desk"
urlpatterns = [
    path("", views.index, name="index"),
    path("add/", views.preview, name="preview"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("sources/<slug:slug>/", views.source, name="source"),
    path("sources/<slug:slug>/save/", views.save_source, name="save-source"),
    path("feeds/<int:pk>/save/", views.save_feed, name="save-feed"),
    path("suggestions/<int:pk>/decline/", views.decline, name="decline"),
    path("suggest/", suggest_views.suggest_page, name="suggest"),
    path("suggest/send/", suggest_views.suggest, name="send-suggestion"),
]
