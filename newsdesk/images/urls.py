from django.urls import path

from newsdesk.images import views

urlpatterns = [path("images/<path:name>", views.serve, name="image")]
