"""API Gateway's control plane: REST APIs as documents (service, rules, shapes, patches, ids),
OpenAPI import, deployments frozen and stages published as `snapshot.DeployedStage`s.

May import: errors, store, the data plane's pure compilers (`data.vtl`, `data.validation`); the
data plane never imports this package.
"""
