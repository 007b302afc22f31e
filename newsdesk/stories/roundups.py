"""Roundups: articles that gather many happenings (listicles, deal posts, daily briefings).

A roundup is not coverage of one event, so it neither joins a story nor takes others in:
"10 things in tech you need to know today" leads with WeWork and would otherwise pull
WeWork's layoffs and the attorney general's inquiry into one story, and two publishers'
Black Friday deal posts are two lists, not one event. Recognised by the forms
such headlines take in English: a dated count of things, a briefing, deals, live
updates. "5 things we learned about Titanfall" or a review round-up is about one
subject, and stays an ordinary article.
"""

from __future__ import annotations

import re

_PATTERNS = re.compile(
    r"""
    \b\d+\s+things\b.*\b(today|tonight|this\s+(morning|week|weekend))\b    # 10 things in tech ... today
    | \b(morning|evening|daily|weekly)\s+(briefing|digest|round-?up)\b   # EM Morning Roundup: ...
    | \b(best|top|early|today's|weekend|black\s+friday|cyber\s+monday)\b[^.:;]*\bdeals\b  # deal posts
    | \bsale\b.*,\s*(and\s+)?more\b                                      # MacBook sale ..., AirPods, more
    | \blive\s+updates\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def is_roundup(title: str) -> bool:
    """Whether a headline announces a collection of happenings rather than one."""
    return bool(_PATTERNS.search(title))
