from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from newsdesk.web import feeds, sitemaps, views

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("articles/<int:pk>/ask", views.ask_article, name="ask"),
    path("hashtags/<slug:slug>/", views.hashtag, name="hashtag"),
    path("sources/", views.sources, name="sources"),
    path("sources/<slug:slug>/", views.source, name="source"),
    path("sections/<slug:section>/", views.section, name="section"),
    # Feeds of every listing: RSS at .../rss, Atom at .../atom.
    path("rss", feeds.LatestFeed(), name="feed-rss"),
    path("atom", feeds.atom(feeds.LatestFeed)(), name="feed-atom"),
    path("sources/<slug:slug>/rss", feeds.SourceFeed(), name="source-rss"),
    path("sources/<slug:slug>/atom", feeds.atom(feeds.SourceFeed)(), name="source-atom"),
    path("hashtags/<slug:slug>/rss", feeds.HashtagFeed(), name="hashtag-rss"),
    path("hashtags/<slug:slug>/atom", feeds.atom(feeds.HashtagFeed)(), name="hashtag-atom"),
    path("sections/<slug:section>/rss", feeds.SectionFeed(), name="section-rss"),
    path("sections/<slug:section>/atom", feeds.atom(feeds.SectionFeed)(), name="section-atom"),
    path("stories/<int:pk>/rss", feeds.StoryFeed(), name="story-rss"),
    path("stories/<int:pk>/atom", feeds.atom(feeds.StoryFeed)(), name="story-atom"),
    path("sitemap.xml", sitemap_views.sitemap, {"sitemaps": sitemaps.SITEMAPS}, name="sitemap"),
    path("news-sitemap.xml", sitemaps.news_sitemap, name="news-sitemap"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
    path("search/", include("newsdesk.search.urls")),
    path("stories/blindspots/", include("newsdesk.perspectives.urls")),
    path("stories/", include("newsdesk.stories.urls")),
    # The Google Reader API for reader apps, where FreshRSS serves it (before /api/'s catch-all).
    path("api/greader.php/", include("newsdesk.reader.greader.urls")),
    # The Fever API, where FreshRSS (/api/fever.php) and Miniflux (/fever/) serve it.
    path("api/", include("newsdesk.reader.fever.urls")),
    path("api/", include("newsdesk.api.urls")),
    path("reading/data/", include("newsdesk.reader.yourdata_urls")),
    path("reading/", include("newsdesk.reader.urls")),
    # Briefings and alerts: /reading/briefing/... and /reading/notifications/...
    path("reading/", include("newsdesk.reader.briefings.urls")),
    path("accounts/", include("newsdesk.accounts.urls")),
    path("comments/", include("newsdesk.comments.urls")),
    path("desk/", include("newsdesk.desk.urls")),
    path("admin/", admin.site.urls),
]

# Lead images from the default storage (newsdesk/images/views.py), when MEDIA_URL is ours
# rather than a CDN's or a storage backend's own.
if settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(path(settings.MEDIA_URL.lstrip("/"), include("newsdesk.images.urls")))
