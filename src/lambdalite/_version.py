"""The installed distribution's version, in a module of its own so the server can read it without
importing the package root (which imports the SDK, a layer above the server)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lambdalite")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
