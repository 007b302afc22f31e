from django.urls import path

from newsdesk.stories import views

urlpatterns = [
    path("", views.story_list, name="stories"),
    path("<int:pk>/", views.story, name="story"),
    path("<int:pk>/moderate", views.moderate, name="story-moderate"),
]
