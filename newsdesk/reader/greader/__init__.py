"""The Google Reader API, in the dialect FreshRSS and Miniflux serve, so that the
reader apps people already use (NetNewsWire, Reeder, ReadYou, FeedMe, Fluent Reader)
sync with newsdesk: followed sources are the subscriptions, folders the labels, saved
articles the starred items, and read state goes both ways. Mounted at
/api/greader.php/ as FreshRSS's is, since apps offer a "FreshRSS" account that appends
that path."""
