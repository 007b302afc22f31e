from django.urls import path

from newsdesk.comments import views

app_name = "comments"
urlpatterns = [
    path("article/<int:pk>/", views.article_comments, name="article"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/moderate/<slug:action>/", views.moderate, name="moderate"),
]
