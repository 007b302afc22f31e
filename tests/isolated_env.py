"""Loaded with `-p tests.isolated_env` (see pyproject.toml) before Django reads settings:
the test run keeps its data (secret key, static root) out of the working tree."""

import os
import tempfile

_data_dir = tempfile.mkdtemp(prefix="newsdesk-tests-")
os.makedirs(os.path.join(_data_dir, "static"), exist_ok=True)
os.environ["NEWSDESK_DATA_DIR"] = _data_dir
