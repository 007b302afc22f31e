"""The optional LLM: used only when it answers in time and stays grounded."""

from __future__ import annotations

import time

import pytest

from newsdesk.ai.llm import (
    LLMClient,
    LLMConfig,
    config_from_env,
    grounded,
    rewrite_answer,
    rewrite_summary,
    translate,
)
from tests.llmserver import Completion, LLMServer

SENTENCES = [
    "Putin said Russia was prepared to wait if Ukraine rejected direct talks.",
    "He met his Belarusian counterpart, Alexander Lukashenko, in Moscow on Thursday.",
    "Prisoner swaps facilitated by the talks were a positive outcome, he said.",
]


@pytest.fixture
def server():
    llm = LLMServer()
    yield llm
    llm.stop()


@pytest.fixture
def client(server):
    llm = LLMClient(LLMConfig(base_url=server.base_url, model="test-model", api_key="sekrit", timeout=2))
    yield llm
    llm.close()


def test_grounded_rewrite_is_used_and_citations_removed(server, client):
    server.answer = lambda request: Completion(
        "Russia is prepared to wait if Ukraine rejects direct talks, Putin said [1]. "
        "He said prisoner swaps were a positive outcome of the talks [3]."
    )
    summary = rewrite_summary(client, "Russia prepared to wait", SENTENCES)
    assert summary == (
        "Russia is prepared to wait if Ukraine rejects direct talks, Putin said. "
        "He said prisoner swaps were a positive outcome of the talks."
    )
    request = server.requests[-1]
    assert request["headers"]["Authorization"] == "Bearer sekrit"
    assert request["body"]["model"] == "test-model"
    assert "[2] He met his Belarusian counterpart" in request["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    "output",
    [
        "Putin threatened to invade Poland next spring [1].",  # facts not in the sentence
        "Russia is prepared to wait, Putin said.",  # no citation
        "Russia is prepared to wait [7].",  # cites a sentence that does not exist
        "Putin said Russia was prepared to wait 30 days [1].",  # a number the article did not state
    ],
)
def test_ungrounded_rewrites_are_refused(server, client, output):
    server.answer = lambda request: Completion(output)
    assert rewrite_summary(client, "t", SENTENCES) is None


def test_errors_and_timeouts_fall_back(server, client):
    server.answer = lambda request: Completion(status=500)
    assert rewrite_summary(client, "t", SENTENCES) is None
    server.answer = lambda request: Completion("Putin said Russia was prepared to wait [1].", delay=3)
    started = time.monotonic()
    assert rewrite_answer(client, "What did Putin say?", SENTENCES[:1], timeout=0.5) is None
    assert time.monotonic() - started < 2


def test_answer_and_not_answered(server, client):
    server.answer = lambda request: Completion("Putin said Russia was prepared to wait [1].")
    assert rewrite_answer(client, "What did Putin say?", SENTENCES) == "Putin said Russia was prepared to wait."
    server.answer = lambda request: Completion("NOT ANSWERED")
    assert rewrite_answer(client, "What is the capital of Peru?", SENTENCES) is None


def test_translation_checked_for_paragraphs_and_numbers(server, client):
    text = "Putin met Lukashenko on Thursday.\n\nThe talks began in May 2025 with 1,000 prisoners swapped."
    server.answer = lambda request: Completion(
        "Putin traf Lukaschenko am Donnerstag.\n\nDie Gespräche begannen im Mai 2025, 1.000 Gefangene wurden ausgetauscht."
    )
    assert translate(client, text, "German").startswith("Putin traf Lukaschenko")
    server.answer = lambda request: Completion("Putin traf Lukaschenko am Donnerstag.")  # a paragraph lost
    assert translate(client, text, "German") is None
    server.answer = lambda request: Completion("Putin traf Lukaschenko.\n\nDie Gespräche begannen im Mai 2024.")
    assert translate(client, text, "German") is None  # a number changed


def test_grounded_checks_each_sentence():
    assert grounded("He met Lukashenko in Moscow [2]. Swaps were positive [3].", SENTENCES) == (
        "He met Lukashenko in Moscow. Swaps were positive."
    )
    assert grounded("He met Lukashenko in Moscow [2]. He also met Xi Jinping [2].", SENTENCES) is None


def test_llm_is_off_unless_configured(settings):
    settings.NEWSDESK_LLM_URL = ""
    assert config_from_env() is None
    settings.NEWSDESK_LLM_URL = "http://127.0.0.1:11434/v1/"
    settings.NEWSDESK_LLM_MODEL = "qwen"
    assert config_from_env() == LLMConfig(base_url="http://127.0.0.1:11434/v1", model="qwen", api_key="", timeout=20.0)
