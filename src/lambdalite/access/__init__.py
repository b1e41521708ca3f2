"""Who may do what: the credentials each function instance gets, the IAM actions a request is for,
and IAM's evaluation of a role's policy statements (docs/security.md, "Function credentials").

Pure and small: no store, no I/O. The server asks it after a signature checked out; the pool asks
it for an instance's keys.
"""

from .actions import Request, action_of
from .credentials import CredentialBook, Principal, SessionCredentials
from .policy import DEFAULT_STATEMENTS, Decision, RolePolicy, decide, denial_message, role_statements

__all__ = ["DEFAULT_STATEMENTS", "CredentialBook", "Decision", "Principal", "Request", "RolePolicy",
           "SessionCredentials", "action_of", "decide", "denial_message", "role_statements"]
