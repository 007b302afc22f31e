"""DOM-level preparation of the page before the main-text extractor runs.

Three kinds of page layout defeat a "pick the best container" extractor:
- chrome sections announced by a heading ("Related Articles", "Comments", "Hashtags",
  "Try Our AI Features") whose cards carry long teaser paragraphs that read like prose;
- an article body split by ad rows into several sibling containers with the same class,
  of which only the first would be taken;
- text the reader never sees (hover cards inside sentences, screen-reader labels).
We remove the first and third and merge the second, using only structure, generic
class words and generic labels, never lists of sites.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

# Class names that content management systems give the element holding the article
# text (the same vocabulary trafilatura looks for first).
_BODY_CLASS = re.compile(
    r"(?:entry|article|art|post|page|text)[-_]?(?:content|body|text)|article__(?:content|body)"
    r"|articleBody|ArticleContent|body-text|post-?entry|postContent",
)

# Headings that open a block of page chrome rather than a part of the article.
_CHROME_HEADINGS = re.compile(
    r"""^(?:
        related(?:\ (?:articles?|posts?|stories|content|news|coverage|links|reading|videos?))?
      | more\ (?:.{1,30}\ )?(?:stories|articles|news)
      | more\ (?:on\ this(?:\ story|\ topic)?|from\ .{1,40}|like\ this)
      | (?:you|we\ think\ you)\ (?:may|might|will|could)\ (?:also\ )?
        (?:like|enjoy|be\ interested\ in)
      | recommended(?:\ (?:for\ you|stories|articles|reading))?
      | most\ (?:popular|read|viewed|shared) | trending(?:\ now|\ stories)?
      | popular\ (?:now|stories|posts)
      | (?:editor'?s?\ )?picks | read\ next | what\ to\ read\ next
      | (?:latest|top)\ (?:news|stories|articles|headlines)
      | (?:\d+\ )?comments?(?:\ \(\d+\))? | no\ comments(?:\ yet)?\.*
      | (?:leave|post|add|write)\ a\ (?:comment|reply) | join\ the\ (?:discussion|conversation)
      | hashtags | tags | topics
      | share(?:\ this(?:\ (?:article|story|post))?)? | share\ (?:via|on)\ .*
      | try\ our\ ai\ features | explore\ what\ .{1,40}\ can\ do\ for\ you:?
      | (?:[\w'’]+\ ){0,5}newsletters?(?:\ [\w'’]+){0,3} | subscribe(?:\ now)?
      | about\ the\ author | author\ bio(?:graphy)?
      | leggi\ anche | articoli\ correlati | veja\ tamb[eé]m | leia\ tamb[eé]m
      | not[ií]cias\ relacionadas
      | art[ií]culos\ relacionados | lesen\ sie\ auch | mehr\ zum\ thema | lire\ aussi
      | sur\ le\ m[eê]me\ sujet | читайте\ также | похожие\ (?:статьи|новости|записи)
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)

_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LABEL_TAGS = ("div", "span", "p", "strong", "b", "header", "summary")
_NEVER_REMOVE = ("html", "body", "main")
_LABEL_TAG_SET = frozenset(_HEADING_TAGS + _LABEL_TAGS)
# Cheap pre-check on text nodes: the first word of a label of _CHROME_HEADINGS.
_LABEL_START = re.compile(
    r"(?:related|more|you|we|recommended|most|trending|popular|editor|picks|read|what|latest"
    r"|top|\d+|comments?|no|leave|post|add|write|join|hashtags|tags|topics|share|try|explore"
    r"|sign|our|the|daily|weekly|newsletter|subscribe|about|author|leggi|articoli|veja|leia"
    r"|not[ií]cias|art[ií]culos|lesen|mehr|lire|[aà]|sur|читайте|похожие)\b",
    re.IGNORECASE,
)


def _text(elem: HtmlElement) -> str:
    return " ".join(elem.text_content().split())


def _short_text(elem: HtmlElement, limit: int) -> str | None:
    """The element's text if it has at most `limit` characters, else None (cheaply)."""
    parts, size = [], 0
    for piece in elem.itertext():
        size += len(piece)
        if size > 3 * limit:
            return None
        parts.append(piece)
    text = " ".join("".join(parts).split())
    return text if len(text) <= limit else None


def _is_chrome_label(elem: HtmlElement) -> bool:
    if elem.tag in _LABEL_TAGS:
        # a bare label, not a wrapper around content
        if len(elem) > 2 or elem.find(".//p") is not None:
            return False
    text = _short_text(elem, 60)
    return bool(text and _CHROME_HEADINGS.match(text))


def _has_own_prose(parent: HtmlElement, node: HtmlElement) -> bool:
    """Whether the parent carries paragraphs of its own next to `node`: then it is the
    article's flow with a box in it, not the box."""
    for child in parent:
        if child is not node and child.tag == "p" and len(_text(child)) > 80:
            return True
    return False


def _has_prose(elem: HtmlElement) -> bool:
    """Whether the element holds a paragraph of article prose outside links."""
    for para in elem.iter("p"):
        if next(para.iterancestors("a"), None) is None and len(_text(para)) > 80:
            return True
    return False


def _is_card_list(section: HtmlElement) -> bool:
    """Several sibling blocks that each link elsewhere: teaser cards, however long
    their excerpts."""
    for container in (section, *section):
        cards = [child for child in container if child.find(".//a[@href]") is not None or child.get("href")]
        if len(cards) >= 2 and not _has_own_prose(container, container):
            return True
    return False


def _own_section(label: HtmlElement) -> HtmlElement | None:
    """The element a chrome label is the title of: climb while the label (or its
    ancestor) is the first thing with text in its parent and the parent holds no
    article-scale text before it."""
    node = label
    while True:
        parent = node.getparent()
        if parent is None:
            return None
        if parent.tag in _NEVER_REMOVE:
            return node if node is not label else None
        before = node.getprevious()
        while before is not None and not _text(before):
            before = before.getprevious()
        if before is not None or (parent.text and parent.text.strip()) or _has_own_prose(parent, node):
            return node if node is not label else None
        node = parent


def _holds_article(elem: HtmlElement) -> bool:
    """Whether the element is or contains the headline or the article container."""
    if elem.tag == "h1" or elem.get("itemprop") == "articleBody":
        return True
    for sub in elem.iter("h1", "div", "section", "article"):
        if sub.tag == "h1" or sub.get("itemprop") == "articleBody" or _BODY_CLASS.search(sub.get("class") or ""):
            return True
    return False


def _label_of(elem: HtmlElement) -> HtmlElement | None:
    """The chrome label that a short text node belongs to: the element or one of its
    two nearest ancestors, the outermost one that is a label as a whole."""
    found = None
    node = elem
    for _ in range(3):
        if node is None:
            break
        if node.tag in _LABEL_TAG_SET and _is_chrome_label(node):
            found = node
        node = node.getparent()
    return found


def _prune_chrome_sections(tree: HtmlElement, candidates: list[HtmlElement]) -> None:
    """Remove each labelled chrome section, unless that would take the article with it."""
    labels = dict.fromkeys(label for elem in candidates if (label := _label_of(elem)) is not None)
    if not labels:
        return
    page_text = len(tree.text_content()) or 1
    for label in labels:
        if not _attached(label, tree):
            continue  # already removed with an earlier section
        section = _own_section(label)
        if section is None:
            # the label sits after other content in its container: drop it and what
            # follows, unless article paragraphs follow
            following = list(label.itersiblings())
            if any(_has_prose(part) for part in following):
                section_parts = [label]
            else:
                section_parts = [label, *following]
        else:
            section_parts = [section]
        removed = sum(len(part.text_content()) for part in section_parts)
        if removed > 0.6 * page_text and not (section is not None and _is_card_list(section)):
            continue
        if any(_holds_article(part) for part in section_parts):
            continue
        for part in section_parts:
            if part.getparent() is not None:
                part.drop_tree()


def _merge_split_bodies(containers: list[HtmlElement]) -> None:
    """Join article containers that share one class name and are not nested, so the
    extractor, which takes the first, sees all of the text."""
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    for elem in containers:
        groups.setdefault((elem.tag, elem.get("class")), []).append(elem)
    for members in groups.values():
        if len(members) < 2:
            continue
        first = members[0]
        for other in members[1:]:
            if any(anc in members for anc in other.iterancestors()):
                continue
            if other.find(".//h1") is not None:
                continue  # a following article, not a continuation
            if other.text and other.text.strip():
                # keep loose leading text as its own paragraph
                para = first.makeelement("p", {})
                para.text = other.text
                first.append(para)
            for child in list(other):
                first.append(child)
            other.drop_tree()


# Content the reader does not see: tooltips and hover cards nested inside paragraphs
# (their text would be spliced into the sentence), screen-reader-only labels, and
# elements marked hidden.
_INVISIBLE_CLASS = re.compile(
    r"tooltip|popover|hover-?card|rollover|sr-only|visually-?hidden|screen-reader", re.IGNORECASE
)
_CONTAINER_TAGS = frozenset({"div", "section", "article"})
# Social posts quoted in the story (their markup before the platform's script runs)
# are part of what the article says; the widget boxes around them look like chrome.
_SOCIAL_POST = re.compile(r"twitter-tweet|instagram-media|tiktok-embed|bluesky-embed|threads-post")
_EMBED_WRAPPER = re.compile(r"embed|social|widget|tweet|twitter|instagram", re.IGNORECASE)


def _scan(tree: HtmlElement) -> tuple[list[HtmlElement], ...]:
    """One walk over the page collecting invisible elements, article containers,
    elements whose own text may be a chrome label, and quoted social posts (a walk
    costs more than the checks)."""
    invisible, containers, label_texts, posts = [], [], [], []
    for elem in tree.iter():
        tag = elem.tag
        if not isinstance(tag, str):
            continue
        cls = elem.get("class")
        if cls:
            if _INVISIBLE_CLASS.search(cls):
                invisible.append(elem)
            elif tag in _CONTAINER_TAGS and _BODY_CLASS.search(cls):
                containers.append(elem)
            elif tag == "blockquote" and _SOCIAL_POST.search(cls):
                posts.append(elem)
        if elem.get("hidden") is not None or elem.get("aria-hidden") == "true":
            invisible.append(elem)
        text = elem.text
        if text and len(text) <= 150 and (_LABEL_START.match(text.lstrip()) or "ewsletter" in text):
            label_texts.append(elem)
    return invisible, containers, label_texts, posts


def _prune_invisible(invisible: list[HtmlElement]) -> None:
    """Remove what readers never see (kept tails: the sentence around a tooltip stays)."""
    for elem in invisible:
        if elem.getparent() is not None and elem.tag not in _NEVER_REMOVE and not _holds_article(elem):
            elem.drop_tree()


def _unwrap_social_posts(posts: list[HtmlElement]) -> None:
    """Replace the widget box around a quoted social post by the post, as a plain quote."""
    for post in posts:
        post.attrib.pop("class", None)
        size = len(post.text_content())
        wrapper = None
        node = post.getparent()
        while (
            node is not None
            and node.tag in ("div", "figure", "section", "aside", "span")
            and _EMBED_WRAPPER.search(f"{node.get('class', '')} {node.get('id', '')}")
            and len(node.text_content()) < size + 200
        ):
            wrapper, node = node, node.getparent()
        if wrapper is not None and wrapper.getparent() is not None:
            post.tail = wrapper.tail
            wrapper.getparent().replace(wrapper, post)


def prune(tree: HtmlElement) -> None:
    """Prepare the tree in place."""
    invisible, containers, label_texts, posts = _scan(tree)
    _prune_invisible(invisible)
    _unwrap_social_posts([post for post in posts if _attached(post, tree)])
    _merge_split_bodies([elem for elem in containers if _attached(elem, tree)])
    _prune_chrome_sections(tree, [elem for elem in label_texts if _attached(elem, tree)])


def _attached(elem: HtmlElement, tree: HtmlElement) -> bool:
    """Whether an element is still in the page (not removed with an ancestor)."""
    return elem.getroottree().getroot() is tree.getroottree().getroot()
