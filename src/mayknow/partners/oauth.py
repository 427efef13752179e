"""Authlib's OAuth 2.0 authorization server (RFC 6749 code grant, RFC 7636 PKCE), fed
plain parameters and bound to one transaction through a ``Store``.

Authlib has no FastAPI integration; its framework-agnostic server needs a request object
and a response hook. Here the request is built from the parameters the API layer parsed,
and the response is handed back as ``(status, body, headers)`` for the service to read.
Authlib checks the client, the redirect URI, the response and grant types, the scope, the
code's binding to client and redirect URI and the PKCE verifier; mayknow adds S256-only
PKCE that is mandatory at the authorization endpoint, and storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationCodeGrant,
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]

from mayknow.partners.domain import SCOPES, PartnerInfo, allowed_scope
from mayknow.partners.errors import AuthorizationRefused

# Authlib refuses a request whose URL is not https. TLS ends at mayknow's proxy, so the
# app never sees an https URL; transport security is the deployment's, not this check's.
_URL = "https://mayknow.invalid/v1/oauth"
Answer = tuple[int, dict[str, Any], list[tuple[str, str]]]
NOT_ASCII = "Every parameter must be printable ASCII (RFC 6749 Appendix A)."


def _printable_ascii(params: Sequence[tuple[str, str]]) -> bool:
    """RFC 6749 Appendix A: every parameter of these requests is printable ASCII."""
    return all(value.isascii() and value.isprintable() for _, value in params)


@dataclass(frozen=True)
class Owner:
    """The member who approved, and the scope they approved (profile plus what they share)."""

    user_id: int
    scope: str


@dataclass(frozen=True)
class StoredCode:
    code_hash: bytes
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str


@dataclass(frozen=True)
class Params:
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str


class Store(Protocol):
    def partner(self, partner_id: str) -> PartnerInfo | None: ...

    def save_code(self, code: str, partner_id: str, owner: Owner, request: Params) -> None: ...

    def find_code(self, code: str, partner_id: str) -> StoredCode | None:
        """The live code issued to this partner; a spent one revokes what it issued."""

    def spend_code(self, code_hash: bytes) -> None: ...

    def save_token(
        self, token: str, partner_id: str, code: StoredCode, scope: str, expires_in: int
    ) -> None: ...


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._data = dict(pairs)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class Request(OAuth2Request):  # type: ignore[misc]
    """An OAuth request from already-parsed parameters (query or form, repeats kept)."""

    def __init__(self, method: str, pairs: Sequence[tuple[str, str]]) -> None:
        super().__init__(method, _URL)
        self.payload = _Payload(pairs)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class Client(ClientMixin):  # type: ignore[misc]
    """A partner as Authlib sees it: a public client, code grant only, exact redirect URIs."""

    def __init__(self, partner: PartnerInfo) -> None:
        self.partner = partner

    def get_client_id(self) -> str:
        return self.partner.id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is always required

    def get_allowed_scope(self, scope: str | None) -> str | None:
        return allowed_scope(self.partner, scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.partner.redirect_uris

    def check_client_secret(self, _client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, _endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, stored: StoredCode) -> None:
        self.stored = stored
        self.code_challenge = stored.code_challenge
        self.code_challenge_method = stored.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.stored.redirect_uri

    def get_scope(self) -> str:
        return self.stored.scope


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE is mandatory and only S256 counts: a plain challenge is the verifier itself."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 (Authlib's class attribute)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 (Authlib's class attribute)

    @staticmethod
    def validate_authorization_redirect_uri(request: Request, client: Client) -> str:
        """Required, and an exact match; the refusal does not repeat the URI sent."""
        uri = request.payload.data.get("redirect_uri")
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri'.")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("'redirect_uri' is not registered for this client.")
        return uri

    def save_authorization_code(self, code: str, request: Request) -> None:
        data = request.payload.data
        params = Params(data["redirect_uri"], data["code_challenge"], data["code_challenge_method"])
        self.server.store.save_code(code, request.client.partner.id, request.user, params)

    def query_authorization_code(self, code: str, client: Client) -> _Code | None:
        found = self.server.store.find_code(code, client.partner.id)
        return None if found is None else _Code(found)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.store.spend_code(authorization_code.stored.code_hash)

    def authenticate_user(self, authorization_code: _Code) -> Owner:
        stored = authorization_code.stored
        return Owner(stored.user_id, stored.scope)


@dataclass(frozen=True)
class Pending:
    """A valid authorization request, waiting for the member's answer."""

    grant: Any
    partner: PartnerInfo
    scope: str
    redirect_uri: str
    state: str | None


class _TokenBody(dict[str, Any]):
    """Authlib logs the issued token at DEBUG: its repr names no secret."""

    def __repr__(self) -> str:
        return f"<bearer token, scope {self.get('scope')!r}>"


def _bearer_tokens(lifetime: timedelta) -> Any:
    seconds = int(lifetime.total_seconds())
    generate = BearerTokenGenerator(
        access_token_generator=lambda **_: generate_token(48),
        expires_generator=lambda _client, _grant_type: seconds,
    )
    return lambda **kwargs: _TokenBody(generate(**kwargs))


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, store: Store, token_lifetime: timedelta) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.store = store
        self.register_grant(_CodeGrant, [_S256Only(required=True)])
        self.register_token_generator("default", _bearer_tokens(token_lifetime))

    def validate(self, params: Sequence[tuple[str, str]]) -> Pending:
        """Check an authorization request; refuse it (never redirect) when it is invalid."""
        if not _printable_ascii(params):  # Authlib would raise ValueError on echoing them
            raise AuthorizationRefused("invalid_request", NOT_ASCII)
        request = Request("GET", params)
        try:
            grant = self.get_consent_grant(request)
        except OAuth2Error as exc:
            description = exc.get_error_description() or "The authorization request is invalid."
            raise AuthorizationRefused(exc.error, description) from None
        client: Client = grant.client
        state = request.payload.data.get("state")
        return Pending(grant, client.partner, request.scope, grant.redirect_uri, state)

    def decide(self, pending: Pending, owner: Owner | None) -> str:
        """Issue the code (``owner`` approved) or access_denied (None): the redirect URI."""
        status, _, headers = self.create_authorization_response(
            pending.grant.request, owner, pending.grant
        )
        location = dict(headers).get("Location")
        if status != 302 or not location:  # validated just before: this is a bug
            raise RuntimeError("the authorization response did not redirect")
        return str(location)

    def token(self, params: Sequence[tuple[str, str]]) -> Answer:
        """The token endpoint's answer, RFC 6749 §5.1 or §5.2, as (status, body, headers)."""
        if not _printable_ascii(params):
            return 400, {"error": "invalid_request", "error_description": NOT_ASCII}, []
        answer: Answer = self.create_token_response(Request("POST", params))
        return answer

    def query_client(self, client_id: str) -> Client | None:
        partner = self.store.partner(client_id)
        return None if partner is None else Client(partner)

    def save_token(self, token: dict[str, Any], request: Request) -> None:
        code: _Code = request.authorization_code
        self.store.save_token(
            token["access_token"],
            request.client.partner.id,
            code.stored,
            token.get("scope", ""),
            token["expires_in"],
        )

    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Answer:
        return status, body, headers

    def send_signal(self, *_args: object, **_kwargs: object) -> None:
        return None
