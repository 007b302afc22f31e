"""Ask-the-article for the web layer: offline answer, optional LLM wording.

The sentence embeddings of an article are cached, so a second question about the same
article only embeds the question.
"""

from __future__ import annotations

import numpy as np
from django.core.cache import cache

from newsdesk.ai import ask as offline
from newsdesk.ai import llm
from newsdesk.ai.embeddings import DIMENSIONS
from newsdesk.articles.models import Article

LLM_TIMEOUT = 5.0


def answer_question(article: Article, question: str) -> offline.Answer:
    key = f"ask-vectors:{article.pk}:{article.updated_at.timestamp()}"
    blob = cache.get(key)
    if blob is None:
        vectors = offline.sentence_vectors(article.body_text)
        cache.set(key, vectors.astype(np.float16).tobytes(), 3600)
    else:
        vectors = np.frombuffer(blob, dtype=np.float16).astype(np.float32).reshape(-1, DIMENSIONS)
    answer = offline.ask(question, article.title, article.body_text, sentence_vectors=vectors)
    config = llm.config_from_env()
    if answer.answered and config is not None:
        client = llm.LLMClient(config)
        try:
            worded = llm.rewrite_answer(client, question, [q.text for q in answer.quotes], timeout=LLM_TIMEOUT)
        finally:
            client.close()
        if worded:
            answer = offline.Answer(answered=True, text=worded, quotes=answer.quotes, worded=True)
    return answer
