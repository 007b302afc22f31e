from django.urls import path

from newsdesk.stories import feeds, views

urlpatterns = [
    path("", views.story_list, name="stories"),
    path("<int:pk>/", views.story, name="story"),
    path("<int:pk>/rss", feeds.StoryFeed(), name="story-rss"),
    path("<int:pk>/atom", feeds.AtomStoryFeed(), name="story-atom"),
    path("<int:pk>/moderate", views.moderate, name="story-moderate"),
]
