"""Ask-the-article: accuracy on a hand-written question set, and latency.

    python -m bench.ask [SHARED_DIR]

The questions are ours; the articles are the seed page and a few BBC articles in
../shared/corpora (read at run time, never copied). Each answerable question lists the
indexes (split_sentences of the body) of the sentences that answer it; None marks a
question the article does not answer. A question counts as right when it is answered
with one of its sentences quoted first, or refused when it has none.

Latency is that of ask() on a 1,500-word article, embedding its sentences included (no
cached vectors), after one warm-up call that loads the model.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench import SHARED
from newsdesk.ai import ask as ask_module
from newsdesk.ai.ask import ask, sentence_vectors

SEED = "seed"
# (article, question, indexes of the answering sentences or None)
QUESTIONS: list[tuple[str, str, set[int] | None]] = [
    (SEED, "What did Putin say about waiting?", {0, 1}),
    (SEED, "Who is Alexander Lukashenko?", {4}),
    (SEED, "When did Kiev suspend the talks?", {11}),
    (SEED, "What does Moscow consider the conflict to be?", {9}),
    (SEED, "Where were the direct negotiations hosted?", {1}),
    (SEED, "What did Putin call a positive outcome of the talks?", {3}),
    (SEED, "What does Russia say would end the hostilities?", {10}),
    (SEED, "What is Moscow's condition for peace?", {6, 7}),
    (SEED, "What did Lukashenko say on Thursday?", {5}),
    (SEED, "What happened to Ukraine's counteroffensive?", {12}),
    (SEED, "What is the primary objective according to Putin?", {8}),
    (SEED, "What is the capital of Peru?", None),
    (SEED, "What did Putin say about China?", None),
    (SEED, "Who won the football match?", None),
    (SEED, "What is the price of oil?", None),
    (SEED, "How many people voted in the election?", None),
    ("business/001", "How much did Time Warner's quarterly profits rise?", {0}),
    ("business/001", "How many subscribers did AOL lose?", {6}),
    ("business/001", "What share of Google does Time Warner own?", {4}),
    ("business/001", "Which films flopped at the box office?", {11}),
    ("business/001", "Who is the chairman of TimeWarner?", {13}),
    ("business/001", "How much has TimeWarner offered to pay to settle the charges?", {16}),
    ("business/001", "What was the profit for the full year?", {12}),
    ("business/001", "What growth does TimeWarner expect in 2005?", {14}),
    ("business/001", "Who is the chief executive of Google?", None),
    ("business/001", "What is the weather like in London?", None),
    ("business/001", "How many cinemas does the company own in France?", None),
    ("politics/010", "Where could a super-casino in Glasgow be located?", {7}),
    ("politics/010", "When will the vote be taken?", {4}),
    ("politics/010", "How many resorts does the government plan?", {1}),
    ("politics/010", "What will the new law control?", {6}),
    ("politics/010", "What do the SNP and the Tories say?", {9, 3}),
    ("politics/010", "Who thinks Westminster should handle the legislation?", {5}),
    ("politics/010", "How much will the casinos cost to build?", None),
    ("politics/010", "Who is the prime minister of Spain?", None),
    ("sport/020", "Who does Jonathan Edwards think can win gold?", {0}),
    ("sport/020", "How far did Idowu jump at the British trials?", {1}),
    ("sport/020", "Where are the European Indoor Championships held?", {6, 9, 10}),
    ("sport/020", "When is the triple jump final?", {10}),
    ("sport/020", "Why will Christian Olsson miss the championships?", {11}),
    ("sport/020", "What medal has Idowu won so far?", {4}),
    ("sport/020", "How old is Idowu?", {6}),
    ("sport/020", "Who won the Champions League final?", None),
    ("sport/020", "What is the price of a ticket for the championships?", None),
    ("tech/030", "Which country rejected the draft law?", {5}),
    ("tech/030", "How many MEPs backed the draft law at the JURI meeting?", {7}),
    ("tech/030", "What does Amazon.com hold a patent for?", {10}),
    ("tech/030", "Why are critics worried about the directive?", {2, 11, 12}),
    ("tech/030", "What is the directive intended to do?", {4}),
    ("tech/030", "Who ordered a rewrite of the proposals?", {0, 1}),
    ("tech/030", "How much does a software patent cost?", None),
    ("tech/030", "What did Apple announce at its conference?", None),
    ("entertainment/010", "Where was the play due to open?", {0}),
    ("entertainment/010", "Who wrote The Vagina Monologues?", {8}),
    ("entertainment/010", "Why did the Media Council ban the play?", {1, 4}),
    ("entertainment/010", "What do the organisers say the play does?", {3}),
    ("entertainment/010", "How many NGOs are organising the play?", {12}),
    ("entertainment/010", "What did MP Kefa Ssempgani say about the play?", {7}),
    ("entertainment/010", "How many tickets were sold for the play?", None),
    ("entertainment/010", "What is the population of Uganda?", None),
    ("entertainment/010", "Who won the best actress award?", None),
]

# A second set on other articles. Its misses showed gaps that were then fixed in general
# terms (acronym cues, the coverage test), and the weights were re-fitted on both sets.
MORE_QUESTIONS: list[tuple[str, str, set[int] | None]] = [
    ("sport/217", "Who scored the goal against Croatia?", {1, 9}),
    ("sport/217", "Who is the Republic of Ireland manager?", {0}),
    ("sport/217", "Who did Kerr succeed as manager?", {5}),
    ("sport/217", "How many home games are Ireland unbeaten in?", {5}),
    ("sport/217", "Why did Duff miss his chance?", {17, 18}),
    ("sport/217", "Who was man of the match?", {16}),
    ("sport/217", "Which team did Ireland beat?", {0}),
    ("sport/217", "How many people attended the match?", None),
    ("sport/217", "Who refereed the game?", None),
    ("sport/263", "Who knocked Rangers out of the Uefa Cup?", {0}),
    ("sport/263", "What was the score against Auxerre?", {4}),
    ("sport/263", "What did McLeish say about his team's defending?", {4, 6}),
    ("sport/263", "Where was the match played?", {0}),
    ("sport/263", "Who scored the goals for Auxerre?", None),
    ("sport/263", "When is Rangers' next match?", None),
    ("business/297", "How many jobs will ABN Amro cut?", {0}),
    ("business/297", "Why is ABN Amro cutting jobs?", {0, 4}),
    ("business/297", "How much will the one-off charge be?", {1}),
    ("business/297", "Which other banks have announced cutbacks?", {3, 12}),
    ("business/297", "How many staff does ABN Amro have?", {9}),
    ("business/297", "What is the bank's largest single market?", {4}),
    ("business/297", "Who is the chief executive of ABN Amro?", None),
    ("business/297", "What is ABN Amro's share price?", None),
    ("tech/024", "How old must people be to audition?", {1}),
    ("tech/024", "Where will the auditions be held?", {4}),
    ("tech/024", "When are the auditions?", {4}),
    ("tech/024", "Will participants be paid?", {3}),
    ("tech/024", "Who is Shauna Perry?", {5}),
    ("tech/024", "Which games does Bioware make?", {1}),
    ("tech/024", "How are the heads of chosen people scanned?", {8, 9}),
    ("tech/024", "How many people applied?", None),
    ("tech/024", "What is Bioware's annual revenue?", None),
    ("politics/114", "What is the Green Party concerned about?", {0, 2}),
    ("politics/114", "Who is Mark Ballard?", {2}),
    ("politics/114", "What will the ballot ask residents?", {10}),
    ("politics/114", "When will the outcome of the referendum be known?", {11}),
    ("politics/114", "What will the council decide at the end of February?", {12}),
    ("politics/114", "How much will the congestion charge cost?", None),
    ("politics/114", "Who is the leader of Edinburgh City Council?", None),
]

# Written after every weight and threshold had been fixed, and not used to change them:
# the honest estimate, on articles and questions the tuning never saw.
HOLDOUT: list[tuple[str, str, set[int] | None]] = [
    ("entertainment/162", "How much did Prince earn?", {1}),
    ("entertainment/162", "Who came second in the list?", {2, 6}),
    ("entertainment/162", "Why did Madonna remain in second place?", {6}),
    ("entertainment/162", "How many copies of Musicology did Prince sell?", {5}),
    ("entertainment/162", "Which magazine published the list?", {0}),
    ("entertainment/162", "Who was the highest-ranking rap act?", {10}),
    ("entertainment/162", "How much did Britney Spears earn?", None),
    ("entertainment/162", "Where will Prince tour next year?", None),
    ("business/070", "How much is the takeover offer for Circuit City?", {0}),
    ("business/070", "Who made the bid for Circuit City?", {1}),
    ("business/070", "How much did Circuit City shares rise?", {2}),
    ("business/070", "What does Highfields intend to do with the firm?", {3}),
    ("business/070", "Who is Bill Armstrong?", {6}),
    ("business/070", "Who is the market leader?", {7}),
    ("business/070", "Who is the chief executive of Circuit City?", None),
    ("business/070", "How many stores does Circuit City have?", None),
    ("sport/348", "Who will replace Gareth Thomas as Wales captain?", {0, 3}),
    ("sport/348", "Why will Thomas miss the game?", {3}),
    ("sport/348", "How old is Michael Owen?", {3}),
    ("sport/348", "Who is the Wales coach?", {3}),
    ("sport/348", "Which teams have Wales beaten this year?", {4, 9}),
    ("sport/348", "Who will Wales play next?", {3, 11, 12}),
    ("sport/348", "Who won the Six Nations last year?", None),
    ("sport/348", "How many tickets have been sold for the Scotland game?", None),
    ("tech/037", "Who is suing Hewlett Packard?", {0, 1}),
    ("tech/037", "What does the lawsuit claim?", {0, 5, 6}),
    ("tech/037", "Where is the woman from?", {1}),
    ("tech/037", "How did HP respond to the lawsuit?", {3}),
    ("tech/037", "What is the lawsuit asking for?", {7}),
    ("tech/037", "How much can running costs reach?", {9}),
    ("tech/037", "When will the case go to trial?", None),
    ("tech/037", "Who is HP's chief executive?", None),
]


def default_shared() -> Path:
    return SHARED


def load_article(shared: Path, key: str) -> tuple[str, str]:
    """(headline, body) of the seed article or of a BBC article."""
    if key == SEED:
        page = (shared / "corpora" / "seed" / "daily8-article-page.txt").read_text(encoding="utf-8")
        article = page.split("\nHashtags\n")[0].strip()
    else:
        path = shared / "corpora" / "summaries" / "bbc" / "articles" / f"{key}.txt"
        article = path.read_bytes().decode("utf-8", errors="replace").strip()
    title, _, body = article.partition("\n")
    return title.strip(), body.strip()


def evaluate(shared: Path, questions: list[tuple[str, str, set[int] | None]] = QUESTIONS) -> dict:
    """Accuracy on a question set, split into answerable and unanswerable questions."""
    articles = {key: load_article(shared, key) for key in {q[0] for q in questions}}
    vectors = {key: sentence_vectors(body) for key, (_, body) in articles.items()}
    right_answered = right_refused = answerable = 0
    misses: list[str] = []
    for key, question, expected in questions:
        title, body = articles[key]
        answer = ask(question, title, body, sentence_vectors=vectors[key])
        if expected is None:
            ok = not answer.answered
            right_refused += ok
        else:
            answerable += 1
            ok = answer.answered and answer.quotes[0].sentence in expected
            right_answered += ok
        if not ok:
            got = answer.quotes[0].sentence if answer.quotes else None
            misses.append(f"{key}: {question} expected {sorted(expected) if expected else 'refusal'}, got {got}")
    unanswerable = len(questions) - answerable
    return {
        "questions": len(questions),
        "accuracy": round((right_answered + right_refused) / len(questions), 3),
        "answerable_accuracy": round(right_answered / answerable, 3),
        "refusal_accuracy": round(right_refused / unanswerable, 3),
        "misses": misses,
    }


def long_article(shared: Path, words: int = 1500) -> tuple[str, str]:
    """A 1,500-word article made of whole BBC paragraphs (the corpus has few that long)."""
    base = shared / "corpora" / "summaries" / "bbc" / "articles"
    paragraphs: list[str] = []
    for path in sorted(base.glob("politics/*.txt")):
        body = path.read_bytes().decode("utf-8", errors="replace").strip().partition("\n")[2]
        for paragraph in body.split("\n\n"):
            if paragraph.strip():
                paragraphs.append(paragraph.strip())
                if sum(len(p.split()) for p in paragraphs) >= words:
                    return "A long article", "\n\n".join(paragraphs)
    return "A long article", "\n\n".join(paragraphs)


def latency(shared: Path, runs: int = 20) -> dict:
    title, body = long_article(shared)
    questions = [q for _, q, _ in QUESTIONS]
    ask(questions[0], title, body)  # loads the model
    timings = []
    for i in range(runs):
        started = time.perf_counter()
        ask(questions[i % len(questions)], title, body)
        timings.append(time.perf_counter() - started)
    timings.sort()
    cached = sentence_vectors(body)
    started = time.perf_counter()
    for i in range(runs):
        ask(questions[i % len(questions)], title, body, sentence_vectors=cached)
    cached_ms = (time.perf_counter() - started) / runs * 1000
    return {
        "article_words": len(body.split()),
        "ask_p50_ms": round(statistics.median(timings) * 1000, 1),
        "ask_p95_ms": round(timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))] * 1000, 1),
        "ask_cached_vectors_mean_ms": round(cached_ms, 1),
        "torch_threads": _torch_threads(),
    }


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    shared = Path(args[0]) if args else default_shared()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Run as a script: the embedding model's settings come from newsdesk.settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    import django

    django.setup()
    tuning = evaluate(shared, QUESTIONS + MORE_QUESTIONS)
    holdout = evaluate(shared, HOLDOUT)
    for name, figures in (("tuning", tuning), ("holdout", holdout)):
        for line in figures.pop("misses"):
            print(f"{name} miss: {line}")
        print(f"{name} set: {figures}")
    result = {
        "method": ask_module.VERSION,
        "accuracy": tuning["accuracy"],
        "holdout_accuracy": holdout["accuracy"],
        "holdout_answerable_accuracy": holdout["answerable_accuracy"],
        "holdout_refusal_accuracy": holdout["refusal_accuracy"],
        **latency(shared),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
