"""The bundled open data (profiles.json); a package so that it ships with newsdesk."""
