"""Dependency environments: a function's requirements.txt resolved once into a lock (uv), and the
lock installed once into a content-addressed folder shared by every function that needs it.

`uv.py` is the only module that runs uv; `environments.py` keys, builds, shares and removes the
environments under `<home>/envs/`. May import: errors, store. The functions service never imports
this package: the server wires it in as the functions' `prepare` hook.
"""
