"""Stacks: a SAM / CloudFormation template -> a plan of operations (pure) -> applied atomically.

`template` loads YAML with CloudFormation's short tags; `sam` expands SAM with aws-sam-translator;
`intrinsics` resolves Ref / GetAtt / Sub / Join and the pseudo parameters; `plan` turns the
expanded template into a `StackPlan` (`model`), off the event loop. `apply` carries a plan out
through the services' own methods (functions, gateway), as the Lambda and API Gateway APIs do;
`service` keeps stacks in the store. May import: functions, gateway, store, errors, clock.
"""
