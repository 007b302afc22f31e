"""The full-text index, as SQL for each database.

SQLite: an external-content FTS5 table over articles_article (the text is stored once, in
the articles table; FTS5 keeps only the index) and a narrow table of what ranking and
filters need, both kept in sync by triggers on the articles table.
Triggers rather than explicit index calls, because articles are written by several code
paths (the pipeline, the admin, reprocessing, bulk updates, raw SQL in migrations) and a
trigger sees all of them inside the same transaction.

One weakness of triggers on SQLite: when a later migration alters articles_article,
Django rebuilds the table (create a copy, drop the old one, rename), and dropping a table
drops its triggers. `repair_sqlite` puts them back after every `migrate` and rebuilds the
index if they were missing (see apps.py).

PostgreSQL: the tsvector of each article, weighted headline > description > body, with
the text search configuration of the article's language (diacritics folded), in a stored
generated column (search_vector) with a GIN index. PostgreSQL computes the column on every
insert and on updates of the text or the language, whatever code path writes. The first
migration indexed the expression itself (no stored vector); that made ranking re-parse
every matching article's text, and so a search for a common word among a million
articles took seconds: migration 0002 replaces it with the column (POSTGRES_DOCUMENT).
The expression is wrapped in IMMUTABLE SQL functions, as a generated column requires.
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "search_article_fts"
META_TABLE = "search_article_meta"

# Porter stemming on top of unicode61: "elections" finds "election", "Zürich" finds
# "zurich". Porter is English-only; in other languages it merely strips a few endings.
SQLITE_TABLES = [
    f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
    title, description, body_text,
    content='articles_article', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
)
""",
    # What ranking and filtering read for every match. In articles_article these
    # columns sit behind the body in each row, so reading them there means reading each
    # matching article's whole text from overflow pages: at 100,000 articles that made
    # a query for a common word three times slower. `published` is a Julian day number.
    f"""
CREATE TABLE IF NOT EXISTS {META_TABLE} (
    id INTEGER PRIMARY KEY,
    published REAL NOT NULL,
    source_id INTEGER NOT NULL,
    language TEXT NOT NULL
)
""",
]

# Text updates only touch the index when the indexed text changed: saving an article for
# any other reason (its language, its modified time) costs no re-indexing.
SQLITE_TRIGGERS = {
    "search_article_ai": f"""
CREATE TRIGGER IF NOT EXISTS search_article_ai AFTER INSERT ON articles_article BEGIN
    INSERT INTO {FTS_TABLE}(rowid, title, description, body_text)
    VALUES (new.id, new.title, new.description, new.body_text);
    INSERT OR REPLACE INTO {META_TABLE}(id, published, source_id, language)
    VALUES (new.id, julianday(new.published_at), new.source_id, new.language);
END
""",
    "search_article_ad": f"""
CREATE TRIGGER IF NOT EXISTS search_article_ad AFTER DELETE ON articles_article BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description, body_text)
    VALUES ('delete', old.id, old.title, old.description, old.body_text);
    DELETE FROM {META_TABLE} WHERE id = old.id;
END
""",
    "search_article_au": f"""
CREATE TRIGGER IF NOT EXISTS search_article_au AFTER UPDATE OF title, description, body_text
ON articles_article
WHEN old.title IS NOT new.title OR old.description IS NOT new.description
    OR old.body_text IS NOT new.body_text
BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description, body_text)
    VALUES ('delete', old.id, old.title, old.description, old.body_text);
    INSERT INTO {FTS_TABLE}(rowid, title, description, body_text)
    VALUES (new.id, new.title, new.description, new.body_text);
END
""",
    "search_article_au_meta": f"""
CREATE TRIGGER IF NOT EXISTS search_article_au_meta AFTER UPDATE OF published_at, source_id, language
ON articles_article
BEGIN
    INSERT OR REPLACE INTO {META_TABLE}(id, published, source_id, language)
    VALUES (new.id, julianday(new.published_at), new.source_id, new.language);
END
""",
}

SQLITE_REBUILD = [
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
    f"DELETE FROM {META_TABLE}",
    f"""INSERT INTO {META_TABLE}(id, published, source_id, language)
        SELECT id, julianday(published_at), source_id, language FROM articles_article""",
]
SQLITE_CHECK = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"
SQLITE_OPTIMIZE = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"

SQLITE_CREATE = [*SQLITE_TABLES, *SQLITE_TRIGGERS.values(), *SQLITE_REBUILD]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    f"DROP TABLE IF EXISTS {META_TABLE}",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


# ISO 639-1 code -> PostgreSQL's configuration for it (those shipped since PostgreSQL 12).
# Each gets a copy named newsdesk_<name> that also folds diacritics with the unaccent
# dictionary, as SQLite's tokenizer does ("zurich" finds "Zürich"); any other language
# is indexed word for word by newsdesk_simple.
POSTGRES_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "fi": "finnish", "fr": "french", "ga": "irish", "hu": "hungarian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "nb": "norwegian",
    "ne": "nepali", "nl": "dutch", "nn": "norwegian", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip
POSTGRES_SIMPLE = "simple"


def postgres_config(name: str) -> str:
    """Our configuration for PostgreSQL's configuration `name`."""
    return f"newsdesk_{name}"


def _postgres_configs() -> list[str]:
    statements = ["CREATE EXTENSION IF NOT EXISTS unaccent"]
    for name in sorted({*POSTGRES_CONFIGS.values(), POSTGRES_SIMPLE}):
        ours = postgres_config(name)
        dictionary = "simple" if name == POSTGRES_SIMPLE else f"{name}_stem"
        statements += [
            f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {ours}",
            f"CREATE TEXT SEARCH CONFIGURATION {ours} (COPY = pg_catalog.{name})",
            f"ALTER TEXT SEARCH CONFIGURATION {ours}"
            + f" ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {dictionary}",
        ]
    return statements


_CASES = " ".join(f"WHEN '{code}' THEN '{postgres_config(name)}'" for code, name in sorted(POSTGRES_CONFIGS.items()))

# Migration 0001's index on the expression (0002 replaces it with the stored column).
POSTGRES_EXPRESSION_INDEX = """
CREATE INDEX IF NOT EXISTS search_article_vector ON articles_article
USING gin (newsdesk_search_vector(language, title, description, body_text))
"""
# SET search_path FROM CURRENT pins the schema the migration ran in, so that index
# maintenance (which runs with a restricted search_path) finds the configurations.
POSTGRES_CREATE = [
    *_postgres_configs(),
    f"""
CREATE OR REPLACE FUNCTION newsdesk_search_config(lang text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT (CASE split_part(lower(coalesce(lang, '')), '-', 1) {_CASES}
            ELSE '{postgres_config(POSTGRES_SIMPLE)}' END)::regconfig
$$
""",
    """
CREATE OR REPLACE FUNCTION newsdesk_search_vector(lang text, title text, description text, body text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT setweight(to_tsvector(newsdesk_search_config(lang), coalesce(title, '')), 'A')
        || setweight(to_tsvector(newsdesk_search_config(lang), coalesce(description, '')), 'B')
        || setweight(to_tsvector(newsdesk_search_config(lang), coalesce(body, '')), 'C')
$$
""",
    POSTGRES_EXPRESSION_INDEX,
]
# Migration 0002: the vector as a stored column, indexed. The expression index goes first,
# so that the table rewrite of ADD COLUMN does not rebuild it only to drop it.
POSTGRES_LANGUAGE = "split_part(lower(language::text), '-', 1)"
POSTGRES_INDEX = "CREATE INDEX IF NOT EXISTS search_article_vector ON articles_article USING gin (search_vector)"
POSTGRES_DOCUMENT = [
    "DROP INDEX IF EXISTS search_article_vector",
    """
ALTER TABLE articles_article ADD COLUMN IF NOT EXISTS search_vector tsvector
GENERATED ALWAYS AS (newsdesk_search_vector(language, title, description, body_text)) STORED
""",
    POSTGRES_INDEX,
    # The language filter ("en" is also "en-GB") in date order, for walking a language's
    # newest articles; and an article's section without reading its enrichment row.
    f"CREATE INDEX IF NOT EXISTS search_article_language ON articles_article ({POSTGRES_LANGUAGE}, published_at DESC)",
    "CREATE INDEX IF NOT EXISTS search_enrichment_section ON articles_enrichment (article_id) INCLUDE (section)",
    # The planner's statistics of the new column (the frequencies of its lexemes) choose
    # how a search finds its candidates; without them it guesses.
    "ANALYZE articles_article",
]
POSTGRES_DOCUMENT_REVERSE = [
    "DROP INDEX IF EXISTS search_enrichment_section",
    "DROP INDEX IF EXISTS search_article_language",
    "DROP INDEX IF EXISTS search_article_vector",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
    POSTGRES_EXPRESSION_INDEX,
]

POSTGRES_DROP = [
    "DROP INDEX IF EXISTS search_article_vector",
    "DROP FUNCTION IF EXISTS newsdesk_search_vector(text, text, text, text)",
    "DROP FUNCTION IF EXISTS newsdesk_search_config(text)",
    *(
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {postgres_config(name)}"
        for name in sorted({*POSTGRES_CONFIGS.values(), POSTGRES_SIMPLE})
    ),
]


def repair_sqlite(connection: BaseDatabaseWrapper) -> bool:
    """Recreate missing triggers and rebuild the index; True when a repair was needed.

    Does nothing while the FTS table does not exist (the search migration is not applied,
    or was unapplied on purpose).
    """
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT type, name FROM sqlite_master WHERE name = %s OR type = 'trigger'", [FTS_TABLE])
        present = {name for kind, name in cursor.fetchall()}
        if FTS_TABLE not in present or present.issuperset(SQLITE_TRIGGERS):
            return False
        for sql in [*SQLITE_TABLES, *SQLITE_TRIGGERS.values(), *SQLITE_REBUILD]:
            cursor.execute(sql)
    return True
