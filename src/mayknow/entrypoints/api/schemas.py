"""Request and response bodies of the HTTP contract (shared/design/api.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Phone = Field(max_length=64, description="A mobile number in any format; handled as E.164.")


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class ErrorDetail(BaseModel):
    code: str = Field(description="What went wrong, in snake_case: invalid_phone, ...")
    message: str = Field(description="A human sentence; never echoes a phone number.")
    field: str | None = Field(default=None, description="The field or index at fault.")


class ErrorOut(BaseModel):
    """Every 4xx answer of the API (except the OAuth token endpoint's, RFC 6749 §5.2)."""

    error: ErrorDetail


class CodeRequest(Strict):
    phone: str = Phone


class CodeSent(BaseModel):
    expires_in: int


class RegisterRequest(Strict):
    phone: str = Phone
    code: str = Field(max_length=16)
    nickname: str = Field(max_length=200)
    accept_policy_version: str = Field(max_length=64)


class LoginRequest(Strict):
    phone: str = Phone
    code: str = Field(max_length=16)
    accept_policy_version: str | None = Field(
        default=None,
        max_length=64,
        description="Needed when the policy changed since the member last accepted it.",
    )


class SignedIn(BaseModel):
    user_id: int
    token: str
    expires_at: str


class Me(BaseModel):
    user_id: int
    nickname: str
    phone_masked: str
    city: str | None


class ConsentChange(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    granted: bool


class ConsentStateOut(BaseModel):
    granted: bool
    at: str | None
    policy_version: str | None


class ConsentOut(ConsentStateOut):
    purpose: str


class PolicyAcceptance(BaseModel):
    current_version: str
    accepted_version: str | None


class Consents(BaseModel):
    purposes: dict[str, ConsentStateOut]
    policy: PolicyAcceptance


class SettingsChange(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    suggestions_enabled: bool | None = None
    recommend_me_to_others: bool | None = None
    show_city_on_profile: bool | None = None


class SettingsOut(BaseModel):
    suggestions_enabled: bool
    recommend_me_to_others: bool
    show_city_on_profile: bool


class Person(BaseModel):
    user_id: int
    nickname: str


class People(BaseModel):
    people: list[Person]


class FollowState(BaseModel):
    user_id: int
    following: bool
    mutual: bool


class Receipt(BaseModel):
    receipt_id: str
    at: str
    erased: dict[str, int]


class Deleted(BaseModel):
    receipt: Receipt


class PolicyOut(BaseModel):
    version: str
    language: str
    summary: str
    full: str
    terms: str


class SessionOut(BaseModel):
    id: str
    channel: str
    created_at: str
    last_seen_at: str
    expires_at: str


class Sessions(BaseModel):
    sessions: list[SessionOut]


class OutboxCode(BaseModel):
    code: str


class QuotaProofIn(Strict):
    secret: str = Field(max_length=64, description="32 random bytes in base64, kept by the client.")
    previous: list[str] = Field(description="Exactly the numbers of the client's last sync.")


class SyncRequest(Strict):
    phones: list[str] = Field(description="Numbers only; names stay on the device.")
    quota: QuotaProofIn | None = None


class DeltaRequest(Strict):
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)
    quota: QuotaProofIn | None = None


class Match(BaseModel):
    index: int
    user_id: int
    nickname: str


class SyncOut(BaseModel):
    matched: list[Match]
    discarded: int = Field(description="Valid numbers that matched no discoverable account.")
    invalid: list[int] = Field(description="Indexes of entries that are not mobile numbers.")
    removed: int = Field(description="Edges removed because their number left the book.")
    quota_remaining: int


class ReasonOut(BaseModel):
    kind: str = Field(
        description="in_your_contacts, has_you_in_contacts, follows_you, "
        "mutual_follow or mutual_connections"
    )
    count: int | None = Field(default=None, description="mutual_connections: how many.")
    via: list[Person] | None = Field(
        default=None, description="mutual_connections: up to three of them."
    )


class SuggestionOut(BaseModel):
    user_id: int
    nickname: str
    reasons: list[ReasonOut]


class Suggestions(BaseModel):
    suggestions: list[SuggestionOut]


class Why(BaseModel):
    reasons: list[ReasonOut]


class Elements(Strict):
    elements: list[str] = Field(
        max_length=10_000, description="Blinded ristretto255 elements, base64 (RFC 9497)."
    )


class Evaluated(BaseModel):
    evaluated: list[str]


class PrivateReport(Strict):
    outputs: list[str] = Field(
        max_length=10_000, description="64-byte OPRF outputs that hit the filter, base64."
    )
    replace: bool = Field(
        default=True, description="Make these the caller's edges (a full sync), or only add."
    )


class PrivateReportOut(BaseModel):
    matched: list[Match]
    unmatched: int = Field(description="Reported outputs that belong to no member.")
    removed: int


class FilterChanges(BaseModel):
    since: int
    version: int
    added: list[str] = Field(description="tag8 of members who became discoverable, base64.")


class NicknameChange(Strict):
    model_config = ConfigDict(strict=True, extra="forbid")
    nickname: str = Field(max_length=200)


class PhoneChange(Strict):
    phone: str = Phone
    code: str = Field(max_length=16)


class RequestIn(Strict):
    kind: str = Field(
        max_length=32,
        description="access, correction, erasure, explanation, "
        "portability, objection, deceased_relative or other",
    )
    details: str = Field(max_length=4000)


class RequestClose(Strict):
    outcome: str = Field(max_length=16, description="done or refused")
    reason: str | None = Field(default=None, max_length=2000)
