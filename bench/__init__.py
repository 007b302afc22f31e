"""The benchmarks behind `newsdesk bench ...`, outside the runtime package."""

from pathlib import Path

# ../shared beside the checkout: the corpora and scorers (see ../shared/BENCHMARKS.md).
SHARED = Path(__file__).resolve().parents[2] / "shared"
BBC_ARTICLES = SHARED / "corpora" / "summaries" / "bbc" / "articles"
