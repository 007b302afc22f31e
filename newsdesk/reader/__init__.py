"""A signed-in reader's own newspaper: what they follow, what they have read, what they
saved, and the app passwords their feed-reader apps sign in with (the Google Reader API
in greader/). Nothing here ever reaches an anonymous reader's cached page: every page
and fragment of this app is rendered per reader and marked private."""
