"""API Gateway (REST APIs): the model, deployments and stages (`service.py`), and the data plane.

The control side (service, patch, ids, shapes, importer) keeps every REST API as a document, persists
it through `store` and publishes immutable `DeployedStage` snapshots; the data plane (routing, events,
vtl, validation, integration) is pure and reads only those snapshots. Nothing here imports `apis`.
"""
