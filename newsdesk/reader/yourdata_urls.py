"""The reader's data, mounted at /reading/data/ (newsdesk/urls.py)."""

from django.urls import path

from newsdesk.reader import yourdata_views as views

app_name = "yourdata"
urlpatterns = [
    path("", views.page, name="page"),
    path("follows.opml", views.follows_opml, name="opml"),
    path("export.json", views.export_json, name="json"),
    path("delete/", views.delete, name="delete"),
    path("deleted/", views.deleted, name="deleted"),
]
