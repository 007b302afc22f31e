from django.urls import path

from newsdesk.perspectives import views

urlpatterns = [
    path("", views.blindspots_page, name="blindspots"),
]
