"""Briefings and alerts: what a signed-in reader is told without asking.

A daily site briefing (the day's top stories in a few cited sentences each) and a
personal one (what is new on each followed story since the reader last looked), on the
web, in a private feed and by email at the reader's hour; alerts when a followed story,
hashtag or saved search gets new articles, on the site and in batched emails. It sits in
the reader's layer: it reads articles, stories and search and nothing below imports it.
"""
