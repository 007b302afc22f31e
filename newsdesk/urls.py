from django.contrib import admin
from django.urls import path

from newsdesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("articles/<int:pk>/ask", views.ask_article, name="ask"),
    path("hashtags/<slug:slug>/", views.hashtag, name="hashtag"),
    path("sources/", views.sources, name="sources"),
    path("sources/<slug:slug>/", views.source, name="source"),
    path("admin/", admin.site.urls),
]
