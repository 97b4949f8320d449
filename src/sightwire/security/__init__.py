"""Who is calling and what they may do: roles, API keys, OIDC tokens, the audit trail."""

from sightwire.security.principal import AuthError, Principal, Role

__all__ = ["AuthError", "Principal", "Role"]
