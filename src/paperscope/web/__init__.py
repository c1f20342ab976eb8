"""`paperscope serve`: the library as a web app (pages, JSON API, Atom feeds). Needs the `web` extra."""

from paperscope.web.app import create_app

__all__ = ["create_app"]
