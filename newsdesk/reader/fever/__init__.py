"""The Fever API, as FreshRSS (p/api/fever.php) and Miniflux (internal/fever/) serve it,
for the reader apps that speak it rather than the Google Reader API (Reeder, Unread,
ReadKit, Fiery Feeds, FeedMe, Fluent Reader): followed sources are the feeds, folders
the groups, saved articles the saved items, and read state goes both ways. Mounted at
/api/fever.php (where apps offering a "FreshRSS" Fever account look) and /api/fever/."""
