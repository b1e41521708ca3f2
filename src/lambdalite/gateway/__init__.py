"""API Gateway (REST APIs): the control plane (`control/`), the data plane (`data/`) and what passes
between them (`snapshot.py`, `urls.py`).

The control plane keeps every REST API as a document, persists it through `store`, freezes
deployments and publishes one immutable `DeployedStage` per stage; the data plane compiles each
published stage once (`data/compiled.py`) and serves requests from it alone. The data plane never
imports the control plane (an import-linter contract), and nothing here imports `apis`.
"""
