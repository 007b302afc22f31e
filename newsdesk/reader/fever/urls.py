from django.urls import path

from newsdesk.reader.fever import views

app_name = "fever"
urlpatterns = [
    # Where FreshRSS serves it (the URL apps ask for), with and without a slash, and
    # where Miniflux does (/fever/), under /api/.
    path("fever.php", views.fever, name="fever"),
    path("fever.php/", views.fever, name="fever-slash"),
    path("fever/", views.fever, name="fever-dir"),
]
