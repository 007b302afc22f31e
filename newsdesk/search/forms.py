"""The search form: every filter is a plain GET field, so a search is a link."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db import connections
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

from newsdesk.ai.sections import SECTIONS
from newsdesk.search.query import MAX_QUERY_CHARS, clean
from newsdesk.search.types import SearchFilters
from newsdesk.sources.models import Source


class FastSelect(forms.Select):
    """A <select> written in Python: Django renders every <option> through a template,
    which for the source filter (one option per publisher, hundreds) cost more than the
    search itself. Same elements and attributes as forms.Select."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        # The same few selects (a publisher or none chosen) on search after search: each
        # rendered once per choices, value and attributes (2-3 ms a search page before).
        key = (name, repr(self.choices), repr(self.format_value(value)), repr(sorted((attrs or {}).items())))
        return _remembered(key, lambda: self._render(name, value, attrs))

    def _render(self, name: str, value: Any, attrs: dict[str, Any] | None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.extend(_option(option) for option in options)
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("\n".join(parts))


MAX_RENDERED = 512
_RENDERED: dict[tuple[str, str, str, str], SafeString] = {}


def _remembered(key: tuple[str, str, str, str], render: Callable[[], SafeString]) -> SafeString:
    """A widget's HTML as rendered before under the same key, else rendered and kept."""
    html = _RENDERED.get(key)
    if html is None:
        if len(_RENDERED) >= MAX_RENDERED:
            _RENDERED.clear()
        html = _RENDERED[key] = render()
    return html


class _PythonInput:
    """An <input> written in Python, for the same reason as FastSelect: each field's
    template render cost about 0.1 ms, and the search page shows seven fields on every
    search. Same element and attributes as Django's input.html."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        # Most of them are the same empty filters search after search: each is written
        # once per value and attributes, as FastSelect's are.
        own = self.attrs  # type: ignore[attr-defined]
        key = (f"{type(self).__name__}:{name}", repr(value), repr(sorted((attrs or {}).items())), repr(own))
        return _remembered(key, lambda: self._render(name, value, attrs))

    def _render(self, name: str, value: Any, attrs: dict[str, Any] | None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        shown = "" if widget["value"] is None else format_html(' value="{}"', str(widget["value"]))
        return format_html(
            '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], shown, flatatt(widget["attrs"])
        )


class FastTextInput(_PythonInput, forms.TextInput):
    pass


class FastDateInput(_PythonInput, forms.DateInput):
    pass


def _option(option: dict) -> str:
    return _option_html(str(option["value"]), conditional_escape(option["label"]), tuple(option["attrs"].items()))


@lru_cache(maxsize=4096)
def _option_html(value: str, label: str, attrs: tuple) -> str:
    """The same few hundred options (publishers, sections) on every search page."""
    return f'<option value="{escape(value)}"{flatatt(dict(attrs)) if attrs else ""}>{label}</option>'


class SearchForm(forms.Form):
    # No max_length: a long query is cut (query.clean), not refused.
    q = forms.CharField(
        label="Search for",
        required=False,
        widget=FastTextInput(attrs={"type": "search", "maxlength": MAX_QUERY_CHARS, "autocomplete": "off"}),
        help_text='Use "double quotes" for a phrase and a minus to leave a word out: -rumour',
    )
    source = forms.ChoiceField(label="Source", required=False, widget=FastSelect)
    section = forms.ChoiceField(
        label="Section",
        required=False,
        widget=FastSelect,
        choices=[("", "All sections"), *((name, name.capitalize()) for name in SECTIONS)],
    )
    hashtag = forms.CharField(label="Hashtag", required=False, max_length=121, widget=FastTextInput)
    language = forms.CharField(
        label="Language",
        required=False,
        max_length=8,
        widget=FastTextInput,
        help_text="A language code such as en or de",
        validators=[RegexValidator(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$", "Give a code such as en or pt-BR.")],
    )
    since = forms.DateField(label="From", required=False, widget=FastDateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=FastDateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = _source_choices(tuple(_sources()))

    def clean_q(self) -> str:
        return clean(self.cleaned_data["q"])

    def clean_hashtag(self) -> str:
        """Readers type hashtags as they see them: "#Kyiv" is the slug "kyiv"."""
        return self.cleaned_data["hashtag"].strip().lstrip("#").lower()

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    @cached_property
    def rows(self) -> dict[str, SafeString]:
        """Each field's row (label, input, help, error) by name, written in Python: through
        an included template the seven rows cost more than the search did."""
        return {field.name: _row(field) for field in self}

    @property
    def filtering(self) -> bool:
        """Whether any filter has a value or any field an error: the filters are shown open."""
        return bool(self.errors) or any(self[name].value() for name in FILTER_FIELDS)

    def filters(self) -> SearchFilters:
        """The filters that validated; a field with an error is left out (and shown)."""
        data = self.cleaned_data if self.is_bound else {}
        return SearchFilters(
            source=data.get("source") or None,
            section=data.get("section") or None,
            hashtag=data.get("hashtag") or None,
            language=data.get("language") or None,
            since=data.get("since"),
            until=data.get("until"),
        )


FILTER_FIELDS = tuple(field.name for field in dataclasses.fields(SearchFilters))  # the form's filter fields


def _row(field: forms.BoundField) -> SafeString:
    return _row_html(
        field.auto_id, field.id_for_label, field.label, str(field), field.help_text, tuple(map(str, field.errors))
    )


@lru_cache(maxsize=1024, typed=True)  # typed: a SafeString and an equal plain str are escaped differently
def _row_html(auto_id: str, id_for_label: str, label: str, widget: str, help_text: str, errors: tuple) -> SafeString:
    """A field's row from its parts: the same rows search after search (see render)."""
    help_html = (
        format_html('\n  <small class="help" id="{}_helptext">{}</small>', auto_id, help_text) if help_text else ""
    )
    error = format_html('\n  <p class="error" id="{}_error">{}</p>', auto_id, " ".join(errors)) if errors else ""
    return format_html(
        '<div class="field{}">\n  <label for="{}">{}:</label>\n  {}{}{}\n</div>',
        " invalid" if errors else "",
        id_for_label,
        label,
        widget,
        help_html,
        error,
    )


class _Listed(BaseChoiceIterator):
    """Choices already in Django's form (value, label): a ChoiceField normalizes a plain
    list again on every form, one call per option (0.2 ms a search page for the
    publishers), and leaves an iterator like this one as it is. Its repr, FastSelect's
    cache key, is worked out once."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self.pairs = pairs
        self.key = repr(pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __repr__(self) -> str:
        return self.key


@lru_cache(maxsize=8)
def _source_choices(rows: tuple[tuple[str, str], ...]) -> _Listed:
    """The source filter's options for these publishers: the same on search after search."""
    return _Listed((("", "All sources"), *rows))


def _sources() -> list[tuple[str, str]]:
    """(slug, name) of every publisher by name, read on every search page (a publisher
    added a moment ago is offered at once) with a plain statement: the queryset cost
    more to build than to run."""
    connection = connections[Source.objects.db]
    table = connection.ops.quote_name(Source._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT slug, name FROM {table} ORDER BY name")
        return cursor.fetchall()
