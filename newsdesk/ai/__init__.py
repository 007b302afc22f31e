"""AI enrichment: plain functions from text to values, no Django.

Every feature works offline on the CPU; an OpenAI-compatible LLM, when configured, may
only reword what these functions ground in the article's own sentences.
"""
