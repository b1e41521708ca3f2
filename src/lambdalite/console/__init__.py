"""The web console: server-rendered pages (Jinja2, autoescaped) over the same services the APIs call,
with light JavaScript whose actions call the HTTP API itself (docs/console.md)."""

from .app import Console

__all__ = ["Console"]
