"""Item and stream ids as the protocol writes them.

An item id comes in three spellings: the long form `tag:google.com,2005:reader/item/`
plus 16 hex digits (what stream contents answer), 16 bare hex digits (Reeder), and the
short form, a decimal number (what stream/items/ids answers). The long form may also
come unpadded (NetNewsWire)."""

from __future__ import annotations

ITEM_PREFIX = "tag:google.com,2005:reader/item/"
STATE = "user/-/state/com.google/"
READING_LIST = STATE + "reading-list"
READ = STATE + "read"
STARRED = STATE + "starred"
KEPT_UNREAD = STATE + "kept-unread"
LABEL = "user/-/label/"
FEED = "feed/"


def long_id(pk: int) -> str:
    return f"{ITEM_PREFIX}{pk:016x}"


def parse_item(value: str) -> int | None:
    """An article id from any spelling, or None."""
    value = value.strip()
    try:
        if value.startswith(ITEM_PREFIX):
            number = int(value[len(ITEM_PREFIX) :], 16)
        elif len(value) == 16:  # ours never reach 16 decimal digits
            number = int(value, 16)
        else:
            number = int(value, 10)
    except ValueError:
        return None
    # Short ids are signed 64-bit numbers; the long form is their two's complement.
    if number >= 2**63:
        number -= 2**64
    return number if 0 < number < 2**63 else None


# Bare state names, as FreshRSS's documented example asks for stream/contents/reading-list.
BARE_STATES = {"reading-list", "read", "starred", "kept-unread"}


def normalise_stream(value: str) -> str:
    """`user/<anything>/...` is the signed-in user's `user/-/...`; a bare state name is
    that state of the user's."""
    value = value.strip()
    if value in BARE_STATES:
        return STATE + value
    if value.startswith("user/") and not value.startswith("user/-/"):
        parts = value.split("/", 2)
        if len(parts) == 3:
            return "user/-/" + parts[2]
    return value


def label(name: str) -> str:
    return LABEL + name


def feed(pk: int) -> str:
    return f"{FEED}{pk}"
