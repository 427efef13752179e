"""The member's city, only under ``location_city`` (H7).

Nothing is looked up, stored or shown before the consent: the address of a request is
resolved only when the consent holds and no fresh city is stored. The city keeps the
time it was derived and expires after 30 days; withdrawing the consent erases it in the
same transaction. Others see it only when the member turns ``show_city_on_profile`` on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from mayknow.accounts.service import AccountService
from mayknow.accounts.sessions import Principal
from mayknow.consent.domain import Purpose, Setting
from mayknow.consent.service import ConsentService
from mayknow.db.ops import affected
from mayknow.db.prepared import Prepared
from mayknow.db.uow import Queryable, UnitOfWork
from mayknow.location.domain import CityResolver
from mayknow.location.models import City
from mayknow.shared.clock import Clock, as_utc

_CITY = Prepared(
    select(City.name_zh, City.name_en, City.expires_at).where(City.user_id == bindparam("user_id"))
)


class LocationService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        consent: ConsentService,
        accounts: AccountService,
        resolver: CityResolver,
        lifetime: timedelta,
    ) -> None:
        self.uow, self.clock, self.consent, self.accounts = uow, clock, consent, accounts
        self.resolver, self.lifetime = resolver, lifetime

    def observe(self, user_id: int, address: str) -> None:
        """Derive the city from this request's address if the member consented and none is fresh."""
        with self.uow.read() as session:
            stale = self.stale_in(session, user_id)
        if stale:
            self._derive(user_id, address)

    def stale_in(self, db: Queryable, user_id: int) -> bool:
        """Does the member want a city (consent holds) and lack a fresh one?"""
        if not self.consent.allows_in(db, user_id, Purpose.LOCATION_CITY):
            return False
        return self._fresh_city(db, user_id) is None

    def _fresh_city(self, db: Queryable, user_id: int) -> tuple[str, str | None] | None:
        """(name_zh, name_en) of the member's stored city, if it has not expired."""
        row = _CITY.one_or_none(db, user_id=user_id)
        if row is None or as_utc(row[2]) <= self.clock.now():
            return None
        return row[0], row[1]

    def _derive(self, user_id: int, address: str) -> None:
        now = self.clock.now()
        found = self.resolver.city_of(address)
        with self.uow.write() as session:
            if not self.consent.allows_in(session, user_id, Purpose.LOCATION_CITY):
                return  # withdrawn meanwhile
            session.execute(delete(City).where(City.user_id == user_id))
            if found is not None:
                session.add(
                    City(
                        user_id=user_id,
                        name_zh=found.name_zh,
                        name_en=found.name_en,
                        province_zh=found.province_zh,
                        derived_at=now,
                        expires_at=now + self.lifetime,
                    )
                )

    def profile(self, principal: Principal, address: str, language: str) -> dict[str, object]:
        """GET /v1/me: the profile, and the city as the member shows it, derived from the
        address first if consent holds and no fresh city is stored."""
        profile, settled = self._stored_profile(principal.user_id, language)
        if settled:
            return profile
        self._derive(principal.user_id, address)
        return {**profile, "city": self.profile_city(principal.user_id, language)}

    def stored_profile(self, principal: Principal, language: str) -> dict[str, object] | None:
        """GET /v1/me from the store alone, in one read; None when a city is to be derived."""
        profile, settled = self._stored_profile(principal.user_id, language)
        return profile if settled else None

    def _stored_profile(self, user_id: int, language: str) -> tuple[dict[str, object], bool]:
        with self.uow.reads() as db:
            profile = self.accounts.profile_in(db, user_id)
            if not self.consent.allows_in(db, user_id, Purpose.LOCATION_CITY):
                return {**profile, "city": None}, True
            city = self._fresh_city(db, user_id)
            if city is None:
                return {**profile, "city": None}, False
            return {**profile, "city": self._shown(db, user_id, city, language)}, True

    def shown_city(self, db: Queryable, user_id: int, language: str = "zh-CN") -> str | None:
        """The city on the member's profile: consented, derived, fresh and display on."""
        if not self.consent.allows_in(db, user_id, Purpose.LOCATION_CITY):
            return None
        return self._shown(db, user_id, self._fresh_city(db, user_id), language)

    def _shown(
        self, db: Queryable, user_id: int, city: tuple[str, str | None] | None, language: str
    ) -> str | None:
        """A consented city as the profile shows it: only while display is on."""
        if city is None or not self.consent.settings_in(db, user_id)[Setting.SHOW_CITY_ON_PROFILE]:
            return None
        name_zh, name_en = city
        return name_en if language == "en" and name_en else name_zh

    def profile_city(self, user_id: int, language: str = "zh-CN") -> str | None:
        with self.uow.read() as session:
            return self.shown_city(session, user_id, language)

    # -- consent effects and rights --------------------------------------------------
    def erase(self, session: Session, user_id: int) -> dict[str, int]:
        return {"city": affected(session, delete(City).where(City.user_id == user_id))}

    def export_in(self, session: Session, user_id: int) -> dict[str, object]:
        city = session.get(City, user_id)
        if city is None:
            return {"city": None}
        return {
            "city": {
                "name_zh": city.name_zh,
                "name_en": city.name_en,
                "province_zh": city.province_zh,
                "derived_at": as_utc(city.derived_at).isoformat(),
                "expires_at": as_utc(city.expires_at).isoformat(),
            }
        }

    def erase_in(self, session: Session, user_id: int) -> dict[str, int]:
        return self.erase(session, user_id)

    def purge_expired(self, session: Session, now: datetime) -> dict[str, int]:
        expired = delete(City).where(City.expires_at <= now)
        return {"cities": affected(session, expired)}

    def stored(self, session: Session, user_id: int) -> bool:
        return session.scalar(select(City.user_id).where(City.user_id == user_id)) is not None
