"""What the pages say about purposes, settings, reasons and errors, as catalogue msgids.

Each text is marked with ``N_`` for extraction and translated where it is shown, so the
same words serve the onboarding cards, the privacy centre and "how suggestions work".
"""

from __future__ import annotations

from dataclasses import dataclass

from mayknow.consent.domain import Purpose, Setting
from mayknow.entrypoints.web.i18n import N_
from mayknow.suggestions.domain import Kind


@dataclass(frozen=True)
class PurposeText:
    purpose: Purpose
    title: str
    what: str
    why: str
    how_long: str


PURPOSES: dict[Purpose, PurposeText] = {
    p.purpose: p
    for p in (
        PurposeText(
            Purpose.CONTACTS_UPLOAD,
            N_("Find people you know from your address book"),
            N_(
                "Only the phone numbers in your address book are sent, at most 10,000 at a "
                "time. The names you saved them under stay in this browser."
            ),
            N_(
                "To show you which of your contacts use mayknow and allow being found, so "
                "that you can follow them."
            ),
            N_(
                "A number that matches nobody is discarded at once: no row, no hash, no "
                "copy. We keep a link to each matched account only while your consent and "
                "theirs both hold; turning this off erases every link at once."
            ),
        ),
        PurposeText(
            Purpose.DISCOVERABLE_BY_PHONE,
            N_("Let people who have your number find you"),
            N_(
                "A keyed pseudonym of your number, and the links from other people's "
                "address books that point at you."
            ),
            N_(
                "So that people who have your number can see that you are here: they see "
                "your nickname, never your number."
            ),
            N_(
                "While you allow it. Turning it off erases every link pointing at you at "
                "once; links form again only when those people's apps sync again."
            ),
        ),
        PurposeText(
            Purpose.SUGGEST_FROM_OTHERS_CONTACTS,
            N_("Show me people who have my number"),
            N_("The links from other people's address books that point at you."),
            N_(
                "To suggest people who have your number in their address book, but only "
                "those who agreed to be suggested to their contacts: both of you must say "
                "yes."
            ),
            N_("It keeps nothing of its own. Turning it off removes these suggestions at once."),
        ),
        PurposeText(
            Purpose.LOCATION_CITY,
            N_("Your city"),
            N_(
                "Your city, worked out from your network (IP) address with an offline "
                "database on our own servers. Nothing finer than the city."
            ),
            N_(
                "To show your city on your profile, if you also turn that on in the "
                "privacy centre. Before you allow it, nothing is worked out, kept or shown."
            ),
            N_(
                "30 days, then worked out again at your next visit. Turning it off erases "
                "it at once."
            ),
        ),
        PurposeText(
            Purpose.SUGGEST_ME_TO_MY_CONTACTS,
            N_("Suggest me to people in my address book"),
            N_("The links from your own address-book uploads."),
            N_(
                "People whose numbers are in your address book may be shown you as a "
                "suggestion, if they allow it too. This tells them that you have their "
                "number."
            ),
            N_("It keeps nothing of its own. Turning it off stops it at once."),
        ),
        PurposeText(
            Purpose.SHARE_WITH_PARTNER_APPS,
            N_("Provide data to a partner app you name"),
            N_("Only the categories of data you choose, for each partner separately."),
            N_("So that a partner app you use can offer you its own features."),
            N_(
                "Every provision is recorded in your ledger. Turning it off stops all "
                "future provision at once."
            ),
        ),
    )
}

# The onboarding cards, in order: one per purpose a newcomer meets first.
ONBOARDING = (
    Purpose.CONTACTS_UPLOAD,
    Purpose.DISCOVERABLE_BY_PHONE,
    Purpose.SUGGEST_FROM_OTHERS_CONTACTS,
    Purpose.LOCATION_CITY,
)

SETTINGS: dict[Setting, tuple[str, str]] = {
    Setting.SUGGESTIONS_ENABLED: (
        N_("Show me people I may know"),
        N_("Off: your list is empty, at once."),
    ),
    Setting.RECOMMEND_ME_TO_OTHERS: (
        N_("Suggest me to others"),
        N_("Off: you are suggested to nobody, from any source, at once."),
    ),
    Setting.SHOW_CITY_ON_PROFILE: (
        N_("Show my city on my profile"),
        N_("Has an effect only while you allow your city to be worked out."),
    ),
}

# Short reasons on a suggestion; mutual_connections is counted in the template.
REASONS: dict[Kind, str] = {
    Kind.IN_YOUR_CONTACTS: N_("In your address book"),
    Kind.HAS_YOU_IN_CONTACTS: N_("Has your number in their address book"),
    Kind.FOLLOWS_YOU: N_("Follows you"),
    Kind.MUTUAL_FOLLOW: N_("You follow each other"),
    Kind.MUTUAL_CONNECTIONS: N_("Friends in common"),
}

# The long answer to "why", and what must hold for the reason to exist.
WHY: dict[Kind, tuple[str, str]] = {
    Kind.IN_YOUR_CONTACTS: (
        N_("This person's number is in the address book you uploaded."),
        N_("You allowed uploading your address book, and they allow being found by number."),
    ),
    Kind.HAS_YOU_IN_CONTACTS: (
        N_("This person has your number in their address book."),
        N_(
            "You turned on 'Show me people who have my number', and they agreed to be "
            "suggested to the people in their address book (double consent)."
        ),
    ),
    Kind.FOLLOWS_YOU: (
        N_("This person follows you."),
        N_("Nothing else: following is public on mayknow."),
    ),
    Kind.MUTUAL_FOLLOW: (
        N_("You and this person follow each other."),
        N_("Nothing else."),
    ),
    Kind.MUTUAL_CONNECTIONS: (
        N_("You have friends in common: people who follow each other with both of you."),
        N_("Nothing else. Address-book links are never used for friends of friends."),
    ),
}

# Error codes of the services, as people read them; others show the service's message.
ERRORS: dict[str, str] = {
    "invalid_phone": N_("That is not a mobile number."),
    "invalid_code": N_("The code is not right."),
    "code_expired": N_("The code has expired: ask for a new one."),
    "code_locked": N_("Too many wrong codes: ask for a new one."),
    "rate_limited": N_("Too many tries: please wait a minute and try again."),
    "invalid_nickname": N_("Choose a nickname of 1 to 30 visible characters."),
    "phone_already_registered": N_("This number already has an account: log in instead."),
    "account_not_found": N_("No account uses this number: sign up first."),
    "policy_not_accepted": N_("Signing up needs your agreement to the current policy."),
    "consent_required": N_("This needs your consent first."),
    "not_a_suggestion": N_("That person is not among your suggestions any more."),
    "user_not_found": N_("There is no such account."),
    "cross_origin": N_("Requests from other sites are refused."),
    "form_expired": N_("This form has expired: reload the page and try again."),
    "session_expired": N_("Your session has ended: log in again."),
    "not_authenticated": N_("Log in first."),
    "quota_exceeded": N_("You have looked up many new numbers: try again later."),
    "too_many_numbers": N_("That is more than 10,000 numbers: send them in parts."),
    "edge_not_found": N_("That match is already gone."),
    "not_dismissed": N_("You have not dismissed that account."),
    "not_blocked": N_("You have not blocked that account."),
    "cannot_follow_self": N_("You cannot follow yourself."),
    "cannot_block_self": N_("You cannot block yourself."),
    "sms_unavailable": N_("The text message could not be sent: try again later."),
    "reason_required": N_("State why you need this look-up: nothing was looked up."),
    "not_available": N_("This is not available yet."),
    "incomplete_form": N_("The form is incomplete."),
    "not_found": N_("There is no such page."),
    "forbidden": N_("You may not do this."),
}
