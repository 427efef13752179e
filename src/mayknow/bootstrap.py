"""The one composition root: settings in, a wired set of services out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from mayknow.accounts.service import AccountService, AuthPolicy
from mayknow.accounts.sms import NoSender, OutboxSender, SmsSender, WebhookSender
from mayknow.audit import service as audit
from mayknow.config import Settings
from mayknow.consent.domain import Purpose
from mayknow.consent.service import ConsentService
from mayknow.contacts.directory import Directory
from mayknow.contacts.domain import Bucket
from mayknow.contacts.private import PrivateDiscovery, PrivateLimits
from mayknow.contacts.service import ContactService, SyncLimits
from mayknow.db.engine import make_engine
from mayknow.db.migrate import upgrade
from mayknow.db.uow import UnitOfWork
from mayknow.graph.service import GraphService
from mayknow.identity.keyring import KeyRing, load_or_create
from mayknow.location.domain import CityResolver
from mayknow.location.ip2region_resolver import Ip2RegionCityResolver, default_resolver
from mayknow.location.service import LocationService
from mayknow.operators.service import OperatorService
from mayknow.partners.domain import Lifetimes
from mayknow.partners.service import PartnerService
from mayknow.policy.texts import current_version
from mayknow.retention.service import RetentionService
from mayknow.rights.corrections import CorrectionService
from mayknow.rights.requests import RequestService
from mayknow.rights.service import RightsService
from mayknow.shared.clock import Clock, SystemClock
from mayknow.suggestions.domain import Weights
from mayknow.suggestions.service import SuggestionService


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: UnitOfWork
    clock: Clock
    keys: KeyRing
    sms: SmsSender
    accounts: AccountService
    consent: ConsentService
    graph: GraphService
    contacts: ContactService
    private: PrivateDiscovery
    suggestions: SuggestionService
    location: LocationService
    operators: OperatorService
    retention: RetentionService
    requests: RequestService
    corrections: CorrectionService
    partners: PartnerService
    rights: RightsService

    @property
    def outbox(self) -> OutboxSender | None:
        return self.sms if isinstance(self.sms, OutboxSender) else None

    def verify_audit(self) -> audit.Verdict:
        with self.uow.read() as session:
            return audit.verify(session)


def auth_policy(settings: Settings) -> AuthPolicy:
    relaxed = settings.address_limits_relaxed
    return AuthPolicy(
        code_ttl=timedelta(seconds=settings.code_ttl_seconds),
        code_max_attempts=settings.code_max_attempts,
        code_interval=timedelta(seconds=settings.code_interval_seconds),
        codes_per_number_per_hour=settings.codes_per_number_per_hour,
        codes_per_address_per_hour=(
            settings.dev_address_limit if relaxed else settings.codes_per_address_per_hour
        ),
        signups_per_address_per_hour=(
            settings.dev_address_limit if relaxed else settings.signups_per_address_per_hour
        ),
        session_max_age=timedelta(days=settings.session_max_age_days),
        session_idle=timedelta(days=settings.session_idle_days),
    )


def default_sender(settings: Settings) -> SmsSender:
    if settings.dev:
        return OutboxSender(echo=True)
    if settings.sms_webhook_url:
        return WebhookSender(settings.sms_webhook_url, settings.sms_webhook_secret)
    return NoSender()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
    engine: Engine | None = None,
    migrate: bool | None = None,
    resolver: CityResolver | None = None,
) -> Container:
    """Wire mayknow. Tests pass a FakeClock, an OutboxSender, an engine or a city resolver."""
    clock = clock or SystemClock()
    keys = load_or_create(settings.data_dir)
    engine = engine or make_engine(settings.database_url, settings.db_pool_size)
    if settings.auto_migrate if migrate is None else migrate:
        upgrade(engine)
    uow = UnitOfWork(engine)
    sms = sms or default_sender(settings)
    version = current_version()
    consent = ConsentService(uow, clock, version)
    accounts = AccountService(
        uow, clock, keys, sms, consent, auth_policy(settings), settings.default_region
    )
    graph = GraphService(uow, clock, accounts)
    contacts = ContactService(
        uow,
        clock,
        keys,
        consent,
        accounts,
        sync_limits(settings),
        Directory(keys, enabled=settings.match_directory),
    )
    consent.when_withdrawn(Purpose.CONTACTS_UPLOAD, contacts.erase_uploads)
    consent.when_withdrawn(Purpose.DISCOVERABLE_BY_PHONE, contacts.erase_incoming)
    consent.when_granted(Purpose.DISCOVERABLE_BY_PHONE, contacts.become_findable)
    private = PrivateDiscovery(contacts, private_limits(settings))
    suggestions = SuggestionService(
        uow, clock, consent, accounts, graph, contacts, weights(settings)
    )
    location = LocationService(
        uow,
        clock,
        consent,
        accounts,
        resolver or city_resolver(settings),
        timedelta(days=settings.city_lifetime_days),
    )
    consent.when_withdrawn(Purpose.LOCATION_CITY, location.erase)
    requests = RequestService(uow, clock)
    corrections = CorrectionService(uow, accounts, contacts)
    operators = OperatorService(uow, clock, accounts, consent, suggestions, requests)
    partners = PartnerService(uow, clock, consent, accounts, contacts, partner_lifetimes(settings))
    retention = RetentionService(
        uow,
        clock,
        [
            accounts.purge_expired,
            location.purge_expired,
            contacts.purge_expired,
            partners.purge_expired,
        ],
        timedelta(days=settings.audit_retention_days),
    )
    consent.when_withdrawn(Purpose.SHARE_WITH_PARTNER_APPS, partners.revoke_all)
    rights = RightsService(
        uow,
        clock,
        [requests, partners, location, suggestions, contacts, graph, consent, accounts],
        version,
    )
    return Container(
        settings=settings,
        engine=engine,
        uow=uow,
        clock=clock,
        keys=keys,
        sms=sms,
        accounts=accounts,
        consent=consent,
        graph=graph,
        contacts=contacts,
        private=private,
        suggestions=suggestions,
        location=location,
        operators=operators,
        partners=partners,
        retention=retention,
        requests=requests,
        corrections=corrections,
        rights=rights,
    )


def city_resolver(settings: Settings) -> CityResolver:
    if settings.ip2region_file:
        return Ip2RegionCityResolver(settings.ip2region_file)
    return default_resolver()


def private_limits(settings: Settings) -> PrivateLimits:
    return PrivateLimits(
        evaluations_per_address_per_hour=(
            settings.dev_address_limit
            if settings.address_limits_relaxed
            else settings.private_evaluations_per_address_per_hour
        ),
        filter_max_age_seconds=settings.filter_max_age_seconds,
    )


def weights(settings: Settings) -> Weights:
    return Weights(
        in_your_contacts=settings.weight_in_your_contacts,
        has_you_in_contacts=settings.weight_has_you_in_contacts,
        follows_you=settings.weight_follows_you,
        mutual_connections=settings.weight_mutual_connections,
    )


def partner_lifetimes(settings: Settings) -> Lifetimes:
    return Lifetimes(
        code=timedelta(seconds=settings.partner_code_ttl_seconds),
        token=timedelta(seconds=settings.partner_token_ttl_seconds),
    )


def sync_limits(settings: Settings) -> SyncLimits:
    return SyncLimits(
        max_numbers=settings.max_numbers_per_sync,
        quota=Bucket(settings.discovery_quota_capacity, settings.discovery_quota_per_hour),
    )
