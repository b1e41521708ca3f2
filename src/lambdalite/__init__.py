"""Lambdalite: a self-hosted, AWS-Lambda-compatible serverless platform for Python.

The package owns the whole platform: the `lambdalite` command (`cli/`), the Python SDK
(`client.py`), and the server with its services (`server.py`, `apis/`, `functions/`, `invoke/`,
`pool/`, `store/`, `observe/`, ...). Importing `lambdalite` gives the SDK only; the server is
imported by `lambdalite serve`, never here, so a client stays light.

    >>> from lambdalite import Client
    >>> Client("http://127.0.0.1:9000").invoke("addfive", {"num": "15"}).json()
    20
"""

from __future__ import annotations

from lambdalite._version import __version__
from lambdalite.client import Client, InvocationError

__all__ = ["Client", "InvocationError", "__version__"]
