"""Errors of the partners slice. The API layer decides how each one is answered."""

from __future__ import annotations

from mayknow.shared.errors import MayknowError, NotAuthenticated


class AuthorizationRefused(MayknowError):
    """The authorization request is invalid (RFC 6749 §4.1.2.1): unknown client, a
    redirect URI not registered, a missing or plain PKCE challenge, a scope not allowed.
    ``code`` is the OAuth error code. Nothing was changed and nobody is redirected."""


class TokenRefused(MayknowError):
    """The token request is refused (RFC 6749 §5.2); ``code`` is the OAuth error code
    (``invalid_grant``, ``invalid_client``, ``invalid_request``...)."""


class InvalidAccessToken(NotAuthenticated):
    """A partner presented an access token that is unknown, expired or revoked."""
