"""Correction (PIPL art. 46): the nickname, and the phone number through a code sent to it."""

from __future__ import annotations

from mayknow.accounts.service import AccountService
from mayknow.accounts.sessions import Principal
from mayknow.contacts.service import ContactService
from mayknow.db.uow import UnitOfWork


class CorrectionService:
    def __init__(self, uow: UnitOfWork, accounts: AccountService, contacts: ContactService) -> None:
        self.uow, self.accounts, self.contacts = uow, accounts, contacts

    def nickname(self, principal: Principal, nickname: object) -> str:
        return self.accounts.change_nickname(principal, nickname)

    def send_phone_code(self, raw_phone: object, address: str) -> int:
        """A code to the new number, with the same limits as any code."""
        return self.accounts.request_code(raw_phone, address)

    def phone(self, principal: Principal, raw_phone: object, code: object) -> dict[str, int]:
        """Re-key the account to the new number; links made from the old one go."""
        with self.uow.write() as session:
            outcome = self.accounts.change_phone_in(session, principal, raw_phone, code)
            if isinstance(outcome, tuple):
                return self.contacts.after_phone_change(session, principal.user_id)
        raise outcome.error()  # after the commit, so that a wrong try still counts
