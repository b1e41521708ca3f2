"""Stacks: a SAM / CloudFormation template -> a plan of operations (pure) -> applied atomically.

`template` loads YAML with CloudFormation's short tags; `sam` expands SAM with aws-sam-translator;
`intrinsics` resolves Ref / GetAtt / Sub / Join and the pseudo parameters; `plan` turns the
expanded template into a `StackPlan` (`model`). `service` applies a plan through the same
services the Lambda and API Gateway APIs call. May import: functions, gateway, store, errors.
"""
