"""Partner apps (H9): "Log in with mayknow", and nothing beyond the public profile
without a separate consent per recipient; every provision leaves a record.

A partner receives matched contacts only while the member's `share_with_partner_apps`
consent holds AND the member's grant to that named partner covers the category AND the
token was issued for it. Each provision appends to the egress ledger in the transaction
that provides it. Revoking a partner, or withdrawing the consent, ends its tokens at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mayknow.accounts.service import AccountService
from mayknow.accounts.sessions import Principal
from mayknow.audit import service as audit
from mayknow.consent.domain import Purpose
from mayknow.consent.service import ConsentService
from mayknow.contacts.service import ContactService
from mayknow.db.uow import UnitOfWork
from mayknow.partners import oauth, repository
from mayknow.partners.domain import (
    PROFILE,
    PUBLIC_PROFILE_FIELDS,
    Category,
    InvalidPartner,
    Lifetimes,
    PartnerInfo,
    allowed_scope,
    categories_of,
    check_partner,
    pairwise_subject,
    scope_list,
)
from mayknow.partners.errors import InvalidAccessToken, TokenRefused
from mayknow.partners.models import PartnerToken
from mayknow.partners.views import egress_json, grant_json
from mayknow.shared.clock import Clock
from mayknow.shared.errors import Conflict, Forbidden, InvalidInput, NotFound

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ConsentScreen:
    client_id: str
    partner_name: str
    redirect_uri: str
    state: str | None
    public_profile: list[str]
    requested: list[str]
    already_granted: list[str]
    share_with_partner_apps: bool


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class PartnerService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        consent: ConsentService,
        accounts: AccountService,
        contacts: ContactService,
        lifetimes: Lifetimes,
    ) -> None:
        self.uow, self.clock, self.consent = uow, clock, consent
        self.accounts, self.contacts, self.lifetimes = accounts, contacts, lifetimes

    # -- the registry --------------------------------------------------------------
    def add(
        self, partner_id: str, name: str, redirect_uris: Sequence[str], categories: Sequence[str]
    ) -> PartnerInfo:
        try:
            partner = check_partner(partner_id, name, redirect_uris, categories)
        except InvalidPartner as exc:
            raise InvalidInput("invalid_partner", str(exc)) from None
        with self.uow.write() as session:
            if repository.partner(session, partner.id) is not None:
                raise Conflict("partner_exists", "A partner with this id is registered already.")
            now = self.clock.now()
            repository.add_partner(session, partner, now)
            audit.record(
                session,
                at=now,
                actor="operator",
                action="partner_added",
                details={"partner": partner.id, "categories": sorted(partner.categories)},
            )
        return partner

    # -- the authorization endpoint ------------------------------------------------
    def consent_screen(self, caller: Principal, params: Params) -> ConsentScreen:
        """What the member is asked: who, for what, and what they granted it before."""
        with self.uow.read() as session:
            pending = self._server(session).validate(params)
            granted = repository.granted(session, caller.user_id, pending.partner.id)
            sharing = self.consent.allows_in(
                session, caller.user_id, Purpose.SHARE_WITH_PARTNER_APPS
            )
        requested = categories_of(pending.scope)
        return ConsentScreen(
            pending.partner.id,
            pending.partner.name,
            pending.redirect_uri,
            pending.state,
            list(PUBLIC_PROFILE_FIELDS),
            requested,
            [c for c in requested if c in granted],
            sharing,
        )

    def authorize(
        self, caller: Principal, params: Params, approve: bool, share: Sequence[str]
    ) -> str:
        """The member's answer: where to send the browser (a code, or access_denied)."""
        with self.uow.write() as session:
            server = self._server(session)
            pending = server.validate(params)
            if not approve:
                return server.decide(pending, None)
            chosen = _chosen(pending.scope, share)
            if chosen:
                self._grant(session, caller, pending.partner.id, chosen)
            scope = allowed_scope(pending.partner, " ".join(chosen)) or PROFILE
            return server.decide(pending, oauth.Owner(caller.user_id, scope))

    def _grant(
        self, session: Session, caller: Principal, partner_id: str, chosen: list[str]
    ) -> None:
        if not self.consent.allows_in(session, caller.user_id, Purpose.SHARE_WITH_PARTNER_APPS):
            raise Forbidden(
                "consent_required",
                "Sharing with a partner app needs your consent to 'share_with_partner_apps'.",
                field="share_with_partner_apps",
            )
        current = repository.granted(session, caller.user_id, partner_id)
        merged = [c.value for c in Category if c.value in current or c.value in chosen]
        if set(merged) == current:
            return
        now = self.clock.now()
        repository.add_grant(session, caller.user_id, partner_id, merged, now)
        audit.record(
            session,
            at=now,
            actor=caller.subject_ref,
            action="partner_grant",
            subject=caller.subject_ref,
            details={"partner": partner_id, "categories": merged},
        )

    # -- the token endpoint --------------------------------------------------------
    def exchange(self, params: Params) -> IssuedToken:
        """Code + PKCE verifier -> access token. A replayed code revokes its tokens, and that
        revocation is committed although the request is refused."""
        with self.uow.write() as session:
            status, body, _ = self._server(session).token(params)
        if status != 200:
            raise TokenRefused(
                str(body.get("error", "invalid_request")),
                str(body.get("error_description", "The token request is refused.")),
            )
        return IssuedToken(
            body["access_token"], body["token_type"], body["expires_in"], body["scope"]
        )

    # -- what a partner may fetch --------------------------------------------------
    def public_profile(self, secret: str) -> dict[str, object]:
        with self.uow.write() as session:
            access = self._access(session, secret)
            user = self.accounts.get(session, access.user_id)
            key = repository.subject_key(session, access.partner_id)
            self._provided(session, access, [PROFILE], 1)
            sub = pairwise_subject(key, user.id)
            return {"sub": sub, "nickname": user.nickname, "avatar": None}

    def matched_contacts(self, secret: str) -> list[dict[str, object]]:
        """The member's matched contacts who also let this partner see theirs: a contact is
        a person too, and reaches a partner only under their own grant to it (PIPL art. 23),
        named by their pairwise identifier for that partner."""
        with self.uow.write() as session:
            access = self._access(session, secret)
            self._require(session, access, Category.MATCHED_CONTACTS)
            category = Category.MATCHED_CONTACTS.value
            ids = repository.sharing_with(
                session,
                access.partner_id,
                self.consent.granted_among(
                    session,
                    self.contacts.contacts_of(session, access.user_id),
                    Purpose.SHARE_WITH_PARTNER_APPS,
                ),
                category,
            )
            names = self.accounts.nicknames(session, sorted(ids))
            key = repository.subject_key(session, access.partner_id)
            people: list[dict[str, object]] = sorted(
                ({"sub": pairwise_subject(key, i), "nickname": names[i]} for i in names),
                key=lambda person: str(person["sub"]),
            )
            self._provided(session, access, [category], len(people))
            return people

    def _access(self, session: Session, secret: str) -> PartnerToken:
        found = repository.token(session, secret, self.clock.now())
        if found is None:
            raise InvalidAccessToken(
                "invalid_token", "The access token is unknown, expired or revoked."
            )
        return found

    def _require(self, session: Session, access: PartnerToken, category: Category) -> None:
        allowed = (
            category.value in scope_list(access.scope)
            and category.value in repository.granted(session, access.user_id, access.partner_id)
            and self.consent.allows_in(session, access.user_id, Purpose.SHARE_WITH_PARTNER_APPS)
        )
        if not allowed:
            raise Forbidden(
                "consent_required",
                f"The member has not allowed this app to receive '{category.value}'.",
                field=category.value,
            )

    def _provided(
        self, session: Session, access: PartnerToken, categories: list[str], count: int
    ) -> None:
        repository.record_egress(
            session, access.user_id, access.partner_id, categories, count, self.clock.now()
        )

    # -- the member's side ---------------------------------------------------------
    def connections(self, caller: Principal) -> dict[str, object]:
        with self.uow.read() as session:
            grants = repository.active_grants(session, caller.user_id)
            ledger = repository.egress(session, caller.user_id)
            names = repository.names(session, [g.partner_id for g in grants])
            names |= repository.names(session, [e.partner_id for e in ledger])
            return {
                "grants": [grant_json(g, names) for g in grants],
                "egress": [egress_json(e, names) for e in reversed(ledger)],
            }

    def revoke(self, caller: Principal, partner_id: str) -> None:
        """End one partner's grant, tokens and pending codes, at once."""
        with self.uow.write() as session:
            if repository.partner(session, partner_id) is None:
                raise NotFound("partner_not_found", "There is no partner app by that id.")
            now = self.clock.now()
            ended = {
                "partner_grants": repository.revoke_grants(
                    session, caller.user_id, partner_id, now
                ),
                **repository.drop_access(session, caller.user_id, partner_id),
            }
            if any(ended.values()):
                audit.record(
                    session,
                    at=now,
                    actor=caller.subject_ref,
                    action="partner_revoked",
                    subject=caller.subject_ref,
                    details={"partner": partner_id, **ended},
                )

    def revoke_all(self, session: Session, user_id: int) -> dict[str, int]:
        """``share_with_partner_apps`` withdrawn: every grant, token and code ends."""
        return {
            "partner_grants": repository.revoke_grants(session, user_id, None, self.clock.now()),
            **repository.drop_access(session, user_id, None),
        }

    def purge_expired(self, session: Session, now: datetime) -> dict[str, int]:
        """For the retention job: a spent code is kept while a token it issued may live."""
        return repository.purge(session, now, self.lifetimes.token)

    # -- the member's rights -------------------------------------------------------
    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        grants = repository.all_grants(session, user_id)
        ledger = repository.egress(session, user_id)
        names = repository.names(
            session, {g.partner_id for g in grants} | {e.partner_id for e in ledger}
        )
        return {
            "partner_grants": [grant_json(g, names) for g in grants],
            "partner_egress": [egress_json(e, names) for e in ledger],
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        return repository.erase(session, user_id)

    def _server(self, session: Session) -> oauth.Server:
        store = repository.SessionStore(session, self.clock, self.lifetimes.code)
        return oauth.Server(store, self.lifetimes.token)


def _chosen(scope: str, share: Sequence[str]) -> list[str]:
    """The categories the member ticked: only among those the partner asked for."""
    requested = categories_of(scope)
    unknown = set(share) - set(requested)
    if unknown:
        raise InvalidInput(
            "invalid_share", "'share' names a category the app did not ask for.", field="share"
        )
    return [c for c in requested if c in share]
