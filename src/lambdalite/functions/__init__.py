"""Functions: the model, the rules (pure: names, validate, permissions, archive) and the service.

May import: errors, store (the service only). Never imports apis, pool or runtime.
"""
