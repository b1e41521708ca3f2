"""The one exception tree of Lambdalite.

    LambdaliteError                      anything the platform raises on purpose
    ├── ServiceError                     an AWS API error: HTTP status, AWS code, message, extra fields
    │   ├── ResourceNotFound             404 ResourceNotFoundException   (body key "Message")
    │   ├── ResourceConflict             409 ResourceConflictException   (body key "message")
    │   ├── InvalidParameterValue        400 InvalidParameterValueException
    │   ├── ValidationError              400 ValidationException         (no "Type" in the body)
    │   ├── InvalidRequestContent        400 InvalidRequestContentException
    │   ├── RequestTooLarge              413 RequestEntityTooLargeException (what AWS sends on the wire)
    │   ├── PreconditionFailed           412 PreconditionFailedException
    │   ├── TooManyRequests              429 TooManyRequestsException   (with "Reason")
    │   ├── AccessDenied                 403 AccessDeniedException      (an ARN of another account)
    │   ├── NotAuthorized                403 AccessDeniedException      (a function's role does not allow it)
    │   ├── Forbidden                    403 ForbiddenException         (e.g. moving a real clock)
    │   ├── ForeignRequest               403 AccessDeniedException      (a browser's Origin, a rebound Host)
    │   ├── UnsupportedMediaTypeError    415 UnsupportedMediaTypeException (a body of a browser's type)
    │   ├── UnsupportedOperation         400 InvalidParameterValueException for what is not built yet
    │   ├── NotFoundRoute                404 UnknownOperationException  (no operation at this method and path)
    │   ├── NotBuilt                     501 NotImplemented             (an AWS operation not built yet)
    │   ├── ServiceFailure               500 ServiceException           ("Type": "Service")
    │   ├── NotFoundException            404 API Gateway                 (body {"message": ...} only)
    │   ├── BadRequestException          400 API Gateway
    │   ├── ConflictException            409 API Gateway
    │   ├── SerializationException       400 API Gateway: a body value of the wrong JSON type
    │   ├── CloudFormationError          CloudFormation's query protocol: <Error><Type>Sender|Receiver</Type>
    │   └── Problems                     400 StackProblems: a list of problems, each naming where (a stack,
    │                                    a project folder, a plan being applied): nothing was changed
    ├── GatewayError                     an answer of API Gateway's own: status, x-amzn-ErrorType, {"message"}
    │   ├── MissingAuthenticationToken   403  no stage or route serves this URL
    │   ├── RequestTooLong               413
    │   ├── RequestValidationError       400  a method request validator refused the request
    │   ├── UnsupportedMediaType         415  no template for the Content-Type, and no passthrough
    │   ├── InvalidApiKey                403  an API key required and missing, unknown, disabled or not in a plan
    │   ├── UsageThrottled               429  over the usage plan's rate ("Too Many Requests")
    │   ├── QuotaExceeded                429  over the usage plan's quota ("Limit Exceeded")
    │   ├── Unauthorized                 401  an authorizer's identity source missing, or it said Unauthorized
    │   ├── AuthorizerDenied             403  the authorizer's policy does not allow the method ("Message")
    │   ├── AuthorizerConfigurationError 500  the authorizer failed, or answered what is not a policy
    │   ├── IntegrationConfigurationError 500 the API is configured so that it cannot answer
    │   ├── IntegrationThrottled         500  Lambda throttled the call (its 429 is not passed on)
    │   ├── TemplateRenderError          500  a mapping template failed while rendering
    │   ├── IntegrationFailed            502  the Lambda function failed (proxy integration)
    │   ├── ProxyResponseError           502  (or 500) the function's proxy answer breaks the rules
    │   └── IntegrationTimeout           504
    ├── TemplateSyntaxError              a mapping template that does not parse (a deployment warning)
    ├── JsonPathError                    a JSONPath outside the supported subset
    ├── TemplateMissing                  `lambdalite deploy DIR`: no template in DIR
    ├── BuildFailed                      a dependency environment could not be built (uv's own words)
    ├── ServerCannotStart                `lambdalite serve` refuses to start
    │   ├── HomeUnusable                 another server holds the home, or its store is newer or foreign
    │   └── AddressInUse                 the port cannot be listened on
    ├── InstanceFailure                  the pool: an instance could not serve an invocation
    │   ├── InstanceTimedOut             the deadline passed; the process group was killed
    │   ├── InstanceExited               the process ended (exit status or signal known)
    │   │   └── InstanceOutOfMemory      killed for passing MemorySize
    │   └── InstanceProtocolError        the worker broke the frame protocol
    ├── ZygoteUnavailable                the pool: no zygote to fork from (a fresh process starts instead)
    ├── SnapshotInitFailed               the pool: a snapshot template's init failed (the update fails)
    └── ClientError                      the SDK: the server answered an error, or could not be reached
        └── StackRejected                a stack was not deployed: its problems, one per line

Where they are caught: the AWS JSON APIs render ServiceError once (`apis/http.answer`), the
CloudFormation API renders it as XML, the data plane renders GatewayError once (a 5xx one with one
log line, never a traceback), the invoker turns InstanceFailure into Lambda's error shapes, the CLI
maps ClientError, TemplateMissing and ServerCannotStart to exit codes. A function's own error (a
handler that raises) is not an exception here: it is a normal invocation outcome, rendered as
HTTP 200 with ``X-Amz-Function-Error: Unhandled`` (AWS's rule).
"""

from __future__ import annotations

from typing import Any


class LambdaliteError(Exception):
    """Base of everything Lambdalite raises on purpose."""


class ServiceError(LambdaliteError):
    """An error answered by an AWS-compatible API in AWS's REST-JSON error shape."""

    status = 500
    code = "ServiceException"
    message_key = "message"  # AWS's model decides the case: "Message" or "message"
    error_type: str | None = "User"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        if self.error_type is not None:
            out["Type"] = self.error_type
        out[self.message_key] = self.message
        return out


class ResourceNotFound(ServiceError):
    status, code, message_key = 404, "ResourceNotFoundException", "Message"


class ProvisionedConfigNotFound(ResourceNotFound):
    code = "ProvisionedConcurrencyConfigNotFoundException"


class ResourceConflict(ServiceError):
    status, code = 409, "ResourceConflictException"


class InvalidParameterValue(ServiceError):
    status, code = 400, "InvalidParameterValueException"


class ValidationError(ServiceError):
    status, code, error_type = 400, "ValidationException", None


class InvalidRequestContent(ServiceError):
    status, code = 400, "InvalidRequestContentException"


class RequestTooLarge(ServiceError):
    # AWS sends RequestEntityTooLargeException on the wire, not the modeled RequestTooLargeException.
    status, code, message_key, error_type = 413, "RequestEntityTooLargeException", "Message", None


class PreconditionFailed(ServiceError):
    status, code = 412, "PreconditionFailedException"


class TooManyRequests(ServiceError):
    status, code = 429, "TooManyRequestsException"


class UnsupportedOperation(ServiceError):
    """A request for something Lambdalite has not built yet: said plainly, never dropped."""

    status, code = 400, "InvalidParameterValueException"


class NotFoundRoute(ServiceError):
    """No operation answers at this method and path (AWS answers an UnknownOperationException)."""

    status, code, error_type = 404, "UnknownOperationException", None


class NotBuilt(ServiceError):
    """An AWS operation that Lambdalite has not built yet: answered plainly, never dropped."""

    status, code, message_key, error_type = 501, "NotImplemented", "message", None


class AccessDenied(ServiceError):
    """403 AccessDeniedException: an ARN of another account.

    AWS answers this with no message at all (recorded: ``"Message": null``), so the body carries
    a null message; the exception's own text says what happened, for logs.
    """

    status, code, message_key, error_type = 403, "AccessDeniedException", "Message", None

    def body(self) -> dict[str, Any]:
        return {**self.extra, "Message": None}


class NotAuthorized(ServiceError):
    """403 AccessDeniedException: signed with a function instance's keys, for an action its role's
    policy does not allow (IAM's text: "User: ... is not authorized to perform: ...")."""

    status, code, message_key = 403, "AccessDeniedException", "Message"


class Forbidden(ServiceError):
    """403 for an operation this server is not set up to allow (Lambdalite's own endpoints)."""

    status, code, error_type = 403, "ForbiddenException", None


class ForeignRequest(ServiceError):
    """403: a request from a web page of another origin, or for a Host this server does not answer
    to (DNS rebinding): refused before it is read (`perimeter`)."""

    status, code, message_key = 403, "AccessDeniedException", "Message"


class UnsupportedMediaTypeError(ServiceError):
    """415: a body of a type no AWS protocol sends (`text/plain`, a form), as browsers send without a
    preflight; never parsed."""

    status, code, message_key = 415, "UnsupportedMediaTypeException", "message"


class ServiceFailure(ServiceError):
    status, code, message_key, error_type = 500, "ServiceException", "Message", "Service"


class NotFoundException(ServiceError):
    """API Gateway's 404: its error body is only ``{"message": ...}`` (lower case, no "Type")."""

    status, code, error_type = 404, "NotFoundException", None


class BadRequestException(ServiceError):
    status, code, error_type = 400, "BadRequestException", None


class SerializationException(ServiceError):
    """API Gateway's 400 for a body its deserializer cannot read (a number where a string goes)."""

    status, code, error_type = 400, "SerializationException", None


class ConflictException(ServiceError):
    status, code, error_type = 409, "ConflictException", None


class CloudFormationError(ServiceError):
    """CloudFormation's query-protocol error (`<Error><Type>Sender</Type><Code>...`): a code of its own."""

    status, error_type = 400, None

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status

    @property
    def kind(self) -> str:
        return "Sender" if self.status < 500 else "Receiver"


class Problems(ServiceError):
    """Something could not be done as asked, for each of `problems` (one line each, naming where):
    a template that cannot be deployed, a project folder the client cannot send, a plan whose
    applying failed (and was rolled back). Nothing was changed."""

    status, code, error_type = 400, "StackProblems", None

    def __init__(self, problems: list[str], summary: str = "stack not deployed") -> None:
        super().__init__(f"{summary}: {len(problems)} problem(s)")
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(self.problems)

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "problems": list(self.problems)}


class GatewayError(LambdaliteError):
    """An answer API Gateway gives itself: `{"message": <message>}` with `status` and `x-amzn-ErrorType:
    <error_type>`. The exception's own text (`reason`) is for the server log, never the caller."""

    status = 500
    error_type = "InternalServerErrorException"
    message: str | None = "Internal server error"
    message_key = "message"   # the explicit deny alone says "Message" (recorded, reference 1.4)

    def __init__(self, reason: str = "", *, message: str | None = None, status: int | None = None) -> None:
        super().__init__(reason or message or self.message or "")
        self.reason = reason
        if message is not None:
            self.message = message
        if status is not None:
            self.status = status


class MissingAuthenticationToken(GatewayError):
    status, error_type, message = 403, "MissingAuthenticationTokenException", "Missing Authentication Token"


class RequestTooLong(GatewayError):
    status, error_type, message = 413, "BadRequestException", "Request Too Long"


class RequestValidationError(GatewayError):
    """400: a method request validator refused the request (BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY)."""

    status, error_type = 400, "BadRequestException"

    def __init__(self, message: str, response_type: str) -> None:
        super().__init__(message=message)
        self.response_type = response_type


class UnsupportedMediaType(GatewayError):
    """415, before the backend is called."""

    status, error_type, message = 415, "BadRequestException", "Unsupported Media Type"  # header: LocalStack's


class InvalidApiKey(GatewayError):
    """403 INVALID_API_KEY: the method requires an API key and the request's is missing, unknown, disabled
    or not in a usage plan of this stage."""

    status, error_type, message = 403, "ForbiddenException", "Forbidden"


class UsageThrottled(GatewayError):
    """429 THROTTLED: over the usage plan's rate for this key."""

    status, error_type, message = 429, "TooManyRequestsException", "Too Many Requests"


class QuotaExceeded(GatewayError):
    """429 QUOTA_EXCEEDED: the key used up its usage plan's quota for the period."""

    status, error_type, message = 429, "LimitExceededException", "Limit Exceeded"


class Unauthorized(GatewayError):
    """401 UNAUTHORIZED: an identity source is missing or fails the validation expression, or the
    authorizer answered the error `Unauthorized`."""

    status, error_type, message = 401, "UnauthorizedException", "Unauthorized"


class AuthorizerDenied(GatewayError):
    """403 ACCESS_DENIED: the authorizer's policy denies the method (explicitly, or by not allowing it)."""

    status, error_type, message_key = 403, "AccessDeniedException", "Message"
    message = "User is not authorized to access this resource with an explicit deny"


class AuthorizerConfigurationError(GatewayError):
    """500 AUTHORIZER_CONFIGURATION_ERROR: the authorizer function is missing, may not be invoked, failed,
    or answered something that is not a policy. AWS's body is `{"message": null}` (reference 7.2)."""

    status, error_type, message = 500, "AuthorizerConfigurationException", None


class IntegrationConfigurationError(GatewayError):
    """500: the API is configured so that it cannot answer (AWS: "Execution failed due to configuration error")."""


class IntegrationThrottled(GatewayError):
    """500: Lambda answered the integration's Invoke with 429 (reserved or account concurrency).
    API Gateway does not pass a Lambda 429 on: the caller gets 500 Internal server error, the
    INTEGRATION_FAILURE gateway response (re:Post "API Gateway proxy integration does not forward
    Lambda throttling (HTTP 429) to client"; Stack Overflow 36363280, answered by the API Gateway team)."""


class TemplateRenderError(GatewayError):
    """500: a mapping template failed while rendering (bad JSONPath, bad JSON for parseJson...)."""


class IntegrationFailed(GatewayError):
    """502: the Lambda function of a proxy integration failed (raised, timed out, crashed)."""

    status = 502


class ProxyResponseError(GatewayError):
    """The function's proxy answer breaks the response rules: 502 (500 for a body that is not base64)."""

    status = 502


class IntegrationTimeout(GatewayError):
    status, error_type, message = 504, "IntegrationTimeout", "Endpoint request timed out"


class TemplateSyntaxError(LambdaliteError):
    """A template that does not parse; reported at deployment, answered 500 at request time."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


class JsonPathError(LambdaliteError):
    """A JSONPath expression outside the supported subset."""


class BuildFailed(LambdaliteError):
    """A function's (or layer's) dependency environment could not be built: the installer's words.
    The function ends `Failed` (or its update does) with reason code `DependencyBuildFailed`."""


class TemplateMissing(LambdaliteError):
    """`lambdalite deploy DIR`: no template where one was looked for."""


class InstanceFailure(LambdaliteError):
    """An instance could not finish an invocation; the instance is gone afterwards.

    Carries what was known when it failed: the function's output so far, how long the invocation
    ran, and the init duration when this invocation started the instance.
    """

    def __init__(self, message: str, output: str = "", duration_ms: float = 0.0,
                 init_duration_ms: float | None = None, max_memory_mb: int = 0) -> None:
        super().__init__(message)
        self.output = output
        self.duration_ms = duration_ms
        self.init_duration_ms = init_duration_ms
        self.max_memory_mb = max_memory_mb


class ZygoteUnavailable(LambdaliteError):
    """A zygote could not start or fork (it died, or never became ready): the pool starts a fresh
    interpreter instead. Never leaves the pool."""


class SnapshotInitFailed(LambdaliteError):
    """A snapshot template's init (or a before-snapshot hook) failed: Lambda's error JSON, the
    init's output and duration. Fails the function's create or update. Never leaves the pool."""

    def __init__(self, error: dict[str, Any], output: str, init_ms: float) -> None:
        super().__init__(f"{error.get('errorType')}: {error.get('errorMessage')}")
        self.error = error
        self.output = output
        self.init_ms = init_ms


class InstanceTimedOut(InstanceFailure):
    pass


class InstanceExited(InstanceFailure):
    """The process ended; exit_status (>= 0) or signal (a number) says how, from waitpid's facts."""

    def __init__(self, message: str, exit_status: int | None = None, signal: int | None = None,
                 **known: object) -> None:
        super().__init__(message, **known)  # type: ignore[arg-type]
        self.exit_status = exit_status
        self.signal = signal


class InstanceOutOfMemory(InstanceExited):
    """The kernel killed the instance for passing its MemorySize (its memory cgroup's OOM killer)."""


class InstanceProtocolError(InstanceFailure):
    pass


class ServerCannotStart(LambdaliteError):
    """`lambdalite serve` refuses to start; the message says why and what to do instead."""


class HomeUnusable(ServerCannotStart):
    """The home cannot be used: another server holds it, or its store is from a newer Lambdalite or
    is not a Lambdalite store at all."""


class NotOnLoopback(ServerCannotStart):
    """Listening beyond loopback with no credentials to check requests against (without --insecure)."""


class AddressInUse(ServerCannotStart):
    """The host and port cannot be listened on (another program has the port, or no such address)."""


class ClientError(LambdaliteError):
    """Raised by lambdalite.Client: the server answered with an error, or was not reachable."""

    def __init__(self, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class StackRejected(ClientError):
    """`Client.deploy`: the template (or the project folder) has problems; nothing was changed."""

    def __init__(self, problems: list[str], status: int = 400) -> None:
        super().__init__("the stack was not deployed:\n" + "\n".join(problems), "StackProblems", status)
        self.problems = problems
