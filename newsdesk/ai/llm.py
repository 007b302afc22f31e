"""An optional OpenAI-compatible LLM that may reword what the offline methods found.

Nothing requires it: every caller has the offline result in hand and uses the LLM's
text only when it arrives in time and passes a grounding check against the article
sentences it was given. Ollama, vLLM, llama.cpp's server and hosted APIs all speak the
`/v1/chat/completions` protocol used here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from django.conf import settings

from newsdesk import turns

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\[(\d+)\]")
# Words any rewording may add without adding a claim.
_GLUE = frozenset(
    """a an the and or but so of to in on at by for with from as is are was were be been it its
    this that these those he she they them his her their we our you your i not no also said says
    according which who whom whose what when where why how than then there here has have had do
    does did will would can could may might must should into over after before about while
    article report reports reported states stated""".split()
)


class LLMError(RuntimeError):
    """The endpoint failed, timed out or answered something unusable."""


@dataclass(frozen=True)
class LLMConfig:
    base_url: str  # e.g. http://127.0.0.1:11434/v1
    model: str
    api_key: str  # "" sends no Authorization header
    timeout: float  # seconds per request


def config_from_env() -> LLMConfig | None:
    """The endpoint settings.NEWSDESK_LLM_URL (and _MODEL, _API_KEY, _TIMEOUT) name,
    or None when no URL is set: the LLM is off. Read at each call, so a test that
    changes the settings needs no reload; settings.py reads the environment."""
    base_url = settings.NEWSDESK_LLM_URL.strip()
    if not base_url:
        return None
    return LLMConfig(
        base_url=base_url.rstrip("/"),
        model=settings.NEWSDESK_LLM_MODEL,
        api_key=settings.NEWSDESK_LLM_API_KEY,
        timeout=settings.NEWSDESK_LLM_TIMEOUT,
    )


class LLMClient:
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._http = httpx.Client(timeout=config.timeout, headers=headers, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def chat(self, system: str, user: str, *, max_tokens: int = 400, timeout: float | None = None) -> str:
        payload = {
            "model": self.config.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0.0,
            "max_tokens": max_tokens,
        }
        try:
            with turns.aside():  # seconds of waiting: a web process serves others meanwhile
                response = self._http.post(
                    f"{self.config.base_url}/chat/completions",
                    json=payload,
                    timeout=timeout if timeout is not None else self.config.timeout,
                )
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as error:
            raise LLMError(f"LLM request failed: {error}") from error
        if not isinstance(content, str) or not content.strip():
            raise LLMError("LLM returned no text")
        return content.strip()


def _content_words(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _GLUE and len(w) > 1}


def grounded(output: str, sources: Sequence[str], *, min_support: float = 0.8) -> str | None:
    """Return `output` without its citations when every sentence cites given sources
    and its content words and numbers come from them; otherwise None."""
    pieces = [p.strip() for p in re.split(r"(?<=[.!?\]])\s+(?=[A-Z\"'“‘(])", output) if p.strip()]
    if not pieces:
        return None
    kept = []
    for piece in pieces:
        cited = [int(n) for n in _CITATION.findall(piece)]
        if not cited or any(not 1 <= n <= len(sources) for n in cited):
            return None
        support = " ".join(sources[n - 1] for n in cited)
        text = _CITATION.sub("", piece).strip()
        words = _content_words(text)
        if words and len(words & _content_words(support)) / len(words) < min_support:
            return None
        if not set(_numbers(text)) <= set(_numbers(support)):
            return None  # a number the article did not state
        kept.append(re.sub(r"\s+([.,;:!?])", r"\1", text))
    return " ".join(kept)


def _numbered(sentences: Sequence[str]) -> str:
    return "\n".join(f"[{n}] {s}" for n, s in enumerate(sentences, 1))


SUMMARY_PROMPT = (
    "You rewrite news summaries. Use only facts from the numbered sentences. Write at most "
    "three short sentences in plain English; end every sentence with the numbers of the "
    "sentences it uses, like [1] or [2][3]. Add no facts, names, numbers or opinions."
)
ANSWER_PROMPT = (
    "You answer a reader's question about a news article using only the numbered sentences "
    "quoted from it. Answer in one or two sentences; end every sentence with the numbers of "
    "the sentences it uses, like [1]. If the sentences do not answer the question, reply "
    "exactly: NOT ANSWERED"
)
TRANSLATE_PROMPT = (
    "Translate the news article the user gives into {language}. Keep every paragraph, every "
    "name and every number; add nothing and leave nothing out. Reply with the translation only."
)


def _numbers(text: str) -> list[str]:
    """Numbers as digit strings, so "1,000" and "1.000" (as other languages write it) agree."""
    return sorted(re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text))


def rewrite_summary(client: LLMClient, title: str, sentences: Sequence[str]) -> str | None:
    """A more fluent summary of `sentences`, or None when the LLM fails or strays."""
    try:
        output = client.chat(SUMMARY_PROMPT, f"Headline: {title}\n\n{_numbered(sentences)}")
    except LLMError as error:
        log.warning("%s; keeping the extractive summary", error)
        return None
    return grounded(output, sentences)


def rewrite_answer(client: LLMClient, question: str, quotes: Sequence[str], *, timeout: float = 5.0) -> str | None:
    """A fluent answer grounded in `quotes`, or None (then the quotes themselves answer)."""
    try:
        output = client.chat(
            ANSWER_PROMPT, f"Question: {question}\n\n{_numbered(quotes)}", timeout=timeout, max_tokens=200
        )
    except LLMError as error:
        log.warning("%s; answering with the quoted sentences", error)
        return None
    if output.strip().upper().startswith("NOT ANSWERED"):
        return None
    return grounded(output, quotes)


def translate(client: LLMClient, text: str, language: str) -> str | None:
    """The article in `language`, or None when the result does not look like a faithful
    translation (paragraphs lost or added, numbers changed, length far off)."""
    try:
        output = client.chat(TRANSLATE_PROMPT.format(language=language), text, max_tokens=4000)
    except LLMError as error:
        log.warning("%s; no translation", error)
        return None
    source_paragraphs = [p for p in text.split("\n\n") if p.strip()]
    paragraphs = [p for p in output.split("\n\n") if p.strip()]
    if len(paragraphs) != len(source_paragraphs):
        return None
    if _numbers(output) != _numbers(text):
        return None
    if not 0.4 <= len(output) / max(1, len(text)) <= 2.5:
        return None
    return "\n\n".join(p.strip() for p in paragraphs)
