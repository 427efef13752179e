"""The steps of the replay, each with what he sees, what is held, and the checks."""

from __future__ import annotations

from mayknow.replay.scene import (
    AGREE_TO_BE_SUGGESTED,
    FANS,
    NEWCOMER,
    PARTNER,
    PARTNER_REDIRECT,
    REASON,
    SAVED_AS,
    Check,
    Member,
    Scene,
    Step,
    cookie_attributes,
    kinds,
    pkce,
    query_of,
)
from mayknow.replay.server import CHENGDU, Server

FROM_CHENGDU = {"X-Forwarded-For": CHENGDU}


def _step(scene: Scene, title: str) -> Step:
    step = Step(title)
    scene.steps.append(step)
    return step


def _check(step: Step, holding: str, what: str, passed: bool) -> None:
    step.checks.append(Check(holding, what, passed))


def play(server: Server) -> list[Step]:
    scene = Scene(server)
    world = _before(scene)
    ling = _first_run_and_sign_up(scene)
    _follow_tab(scene, ling, world)
    _own_address_book(scene, ling)
    _discoverable(scene, ling, world)
    _suggest_from_others(scene, ling, world)
    _city(scene, ling)
    _partner(scene, ling)
    _delete(scene, ling, world)
    return scene.steps


def _before(scene: Scene) -> dict[str, list[Member]]:
    step = _step(scene, "0. Before he arrives: 20 members hold his number, 10 others do not")
    scene.version = scene._ok(scene.http.get("/v1/policy"))["version"]
    uploaders = []
    for i, saved_as in enumerate(SAVED_AS):
        member = scene.sign_up(f"用户{i:02d}", f"+86139100000{i:02d}")
        scene.grant(member, "contacts_upload")
        if i < AGREE_TO_BE_SUGGESTED:
            scene.grant(member, "suggest_me_to_my_contacts")
        book = [NEWCOMER, f"+86137000{i:05d}", "10086"]  # names such as saved_as stay home
        assert saved_as  # the app keeps this name on the phone; it is never sent
        result = scene.sync(member, book)
        uploaders.append(member)
        assert result["matched"] == []
    others = [scene.sign_up(f"路人{i}", f"+86139200000{i:02d}") for i in range(10)]
    operator = scene.sign_up("客服", "+8613930000000")
    scene.server.cli("operators", "add", str(operator.user_id))
    scene.server.cli(
        "partners",
        "add",
        "--id",
        PARTNER,
        "--name",
        "多闪",
        "--redirect-uri",
        PARTNER_REDIRECT,
        "--category",
        "matched_contacts",
    )
    step.shown = "(he is not here yet)"
    step.held = "31 accounts; no row about his number: every upload of it matched nobody"
    return {"uploaders": uploaders, "others": others, "operator": [operator]}


def _first_run_and_sign_up(scene: Scene) -> Member:
    step = _step(scene, "1. First run in Chengdu; sign-up with his own number")
    policy = scene._ok(scene.http.get("/v1/policy"))
    refused = scene.http.post(
        "/v1/auth/register", json={"phone": NEWCOMER, "code": "000000", "nickname": "凌某"}
    )
    ling = scene.sign_up("凌某", NEWCOMER, headers=FROM_CHENGDU)
    consents = scene._ok(scene.http.get("/v1/me/consents", headers=ling.auth))
    granted = [p for p, s in consents["purposes"].items() if s["granted"]]
    cookie = cookie_attributes(scene.cookie)
    step.shown = f"policy summary v{policy['version']} with two buttons; then his profile"
    step.held = f"account; consent record 'account' v{consents['policy']['accepted_version']}"
    _check(
        step,
        "H11",
        "registering without accepting the policy is refused",
        refused.status_code == 422,
    )
    _check(step, "H11", "every purpose starts not granted", granted == [])
    _check(
        step,
        "H3",
        "registration records acceptance of the policy version shown",
        consents["policy"]["accepted_version"] == policy["version"],
    )
    _check(
        step,
        "H12",
        "session cookie: HttpOnly, SameSite=Lax, first party, <= 30 days",
        cookie["httponly"]
        and cookie["samesite"].lower() == "lax"
        and not cookie["domain"]
        and 0 < cookie["max_age"] <= 30 * 86400,
    )
    return ling


def _follow_tab(scene: Scene, ling: Member, world: dict[str, list[Member]]) -> None:
    step = _step(scene, "2. He opens the follow tab")
    for fan in world["uploaders"][:FANS]:
        scene._ok(scene.http.post(f"/v1/follows/{ling.user_id}", headers=fan.auth))
    shown = scene.suggestions(ling)
    me = scene.me(ling, FROM_CHENGDU)
    export = scene.export(ling)
    operator = world["operator"][0]
    recall = scene._ok(scene.recall(operator, ling.user_id, world["uploaders"][5].user_id))
    step.shown = f"{len(shown)} suggestions {kinds(shown)}; city: {me['city']}"
    step.held = (
        f"links to him: {len(export['in_address_books_of'])} shown, "
        f"{export['in_address_books_of_others_hidden']} hidden; city: {export['city']}"
    )
    _check(
        step,
        "H4",
        "no suggestion from other people's address books without his consent",
        "has_you_in_contacts" not in kinds(shown),
    )
    _check(
        step,
        "H6",
        "the list works: his two fans, each with its reason",
        kinds(shown) == {"follows_you": FANS},
    )
    _check(
        step,
        "H7",
        "no city derived, stored or shown before the location consent",
        me["city"] is None and export["city"] is None,
    )
    _check(
        step,
        "H2",
        "the 20 uploads of his number left nothing: recall finds no source",
        recall["sources"] == [] and export["in_address_books_of_others_hidden"] == 0,
    )


def _own_address_book(scene: Scene, ling: Member) -> None:
    step = _step(scene, "3. 'See address-book friends': his book holds only his own number")
    before = scene.http.post("/v1/contacts/sync", json={"phones": [NEWCOMER]}, headers=ling.auth)
    scene.grant(ling, "contacts_upload")
    result = scene.sync(ling, [NEWCOMER])
    export = scene.export(ling)
    step.shown = f"matched {len(result['matched'])}"
    step.held = f"his upload links: {len(export['address_book_matches'])}"
    _check(
        step,
        "H8",
        "nothing is read or uploaded before his explicit permission",
        before.status_code == 403,
    )
    _check(
        step,
        "H2",
        "his own number is ignored; nothing is kept",
        result["matched"] == [] and export["address_book_matches"] == [],
    )


def _discoverable(scene: Scene, ling: Member, world: dict[str, list[Member]]) -> None:
    step = _step(scene, "4. He lets people who have his number find him")
    scene.grant(ling, "discoverable_by_phone")
    before = scene.export(ling)
    for uploader, i in zip(world["uploaders"], range(len(SAVED_AS)), strict=True):
        scene.sync(uploader, [NEWCOMER, f"+86137000{i:05d}", "10086"])  # their apps sync again
    after = scene.export(ling)
    shown = len(after["in_address_books_of"])
    hidden = after["in_address_books_of_others_hidden"]
    step.shown = "nothing new in his list yet (that needs his next choice)"
    step.held = f"links to him: {shown} visible to him, {hidden} hidden (their choice)"
    _check(
        step,
        "H14",
        "links form only under both consents, when the uploaders sync again",
        before["in_address_books_of_others_hidden"] == 0 and shown + hidden == 20,
    )
    _check(
        step,
        "H5",
        "he sees the links that hold his number where the uploader agreed",
        shown == AGREE_TO_BE_SUGGESTED and hidden == 20 - AGREE_TO_BE_SUGGESTED,
    )


def _suggest_from_others(scene: Scene, ling: Member, world: dict[str, list[Member]]) -> None:
    step = _step(scene, "5. He allows suggestions from people who have his number")
    scene.grant(ling, "suggest_from_others_contacts")
    shown = scene.suggestions(ling)
    first = shown[0]["user_id"]
    why = scene._ok(scene.http.get(f"/v1/suggestions/{first}/why", headers=ling.auth))
    operator = world["operator"][0]
    unexplained = scene.recall(operator, ling.user_id, first, reason=None)
    recall = scene._ok(scene.recall(operator, ling.user_id, first))
    log = scene._ok(
        scene.http.get(
            "/v1/admin/audit", params={"reason": REASON, "limit": 5}, headers=operator.auth
        )
    )
    scene.grant(ling, "suggest_from_others_contacts", granted=False)
    withdrawn = scene.suggestions(ling)
    step.shown = f"{len(shown)} suggestions {kinds(shown)}; after withdrawal {kinds(withdrawn)}"
    step.held = f"recall: {[s['kind'] for s in recall['sources']]}"
    _check(
        step,
        "H14",
        "only uploaders who agreed are suggested (double consent)",
        kinds(shown).get("has_you_in_contacts") == AGREE_TO_BE_SUGGESTED,
    )
    _check(
        step,
        "H10",
        "'why' gives the same reasons as the list",
        why["reasons"] == shown[0]["reasons"],
    )
    _check(
        step,
        "H10",
        "recall needs a stated reason, answers with sources and dates",
        unexplained.status_code == 422 and all("since" in s for s in recall["sources"]),
    )
    _check(
        step,
        "H10",
        "every recall is in the audit log",
        any(e["action"] == "operator_recall" for e in log["events"]),
    )
    _check(
        step,
        "H4",
        "withdrawing takes effect on the next load",
        "has_you_in_contacts" not in kinds(withdrawn),
    )


def _city(scene: Scene, ling: Member) -> None:
    step = _step(scene, "6. He allows his city and shows it on his profile")
    scene._ok(
        scene.http.put("/v1/me/settings", json={"show_city_on_profile": True}, headers=ling.auth)
    )
    scene.grant(ling, "location_city", headers=FROM_CHENGDU)
    shown = scene.me(ling, FROM_CHENGDU)["city"]
    held = scene.export(ling)["city"]
    scene.grant(ling, "location_city", granted=False)
    after = scene.me(ling, FROM_CHENGDU)["city"]
    gone = scene.export(ling)["city"]
    step.shown = f"city: {shown}; after withdrawal: {after}"
    step.held = (
        f"city: {held and held['name_zh']} (derived {held and held['derived_at']}); "
        f"after withdrawal: {gone}"
    )
    _check(
        step,
        "H7",
        "the city appears only after the consent, and goes with it",
        shown == "成都" and after is None and gone is None,
    )
    _check(
        step,
        "H1",
        "the city next to his number is in his export, as personal data",
        bool(held) and scene.export(ling)["account"]["phone"] == NEWCOMER,
    )


def _partner(scene: Scene, ling: Member) -> None:
    step = _step(scene, "7. The sister app 多闪 asks him to log in with mayknow")
    verifier, challenge = pkce()
    ask = {
        "client_id": PARTNER,
        "redirect_uri": PARTNER_REDIRECT,
        "scope": "profile",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
    }
    answer = scene._ok(
        scene.http.post(
            "/v1/oauth/authorize", headers=ling.auth, json={**ask, "approve": True, "share": []}
        )
    )
    code = query_of(answer["redirect_to"])["code"]
    token = scene._ok(
        scene.http.post(
            "/v1/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": PARTNER_REDIRECT,
                "client_id": PARTNER,
                "code_verifier": verifier,
            },
        )
    )["access_token"]
    partner = {"Authorization": f"Bearer {token}"}
    profile = scene.http.get("/v1/partner/me", headers=partner)
    contacts = scene.http.get("/v1/partner/contacts", headers=partner)
    ledger = scene._ok(scene.http.get("/v1/me/partners", headers=ling.auth))
    step.shown = f"多闪 gets his profile ({profile.status_code}); contacts: {contacts.status_code}"
    step.held = f"egress ledger: {ledger.get('egress', ledger)}"
    _check(
        step,
        "H9",
        "without the separate consent the partner gets only the public profile",
        profile.status_code == 200 and contacts.status_code == 403,
    )
    _check(
        step,
        "H9",
        "every provision is recorded in the egress ledger he can see",
        PARTNER in str(ledger),
    )


def _delete(scene: Scene, ling: Member, world: dict[str, list[Member]]) -> None:
    step = _step(scene, "8. He deletes his account")
    response = scene.http.delete("/v1/me", headers=ling.auth)
    receipt = scene._ok(response)["receipt"]
    after = scene.http.get("/v1/me", headers=ling.auth)
    recall = scene.recall(world["operator"][0], ling.user_id, world["uploaders"][0].user_id)
    step.shown = f"receipt {receipt['receipt_id']}: {receipt['erased']}"
    step.held = f"his session: {after.status_code}; recall about him: {recall.status_code}"
    _check(
        step,
        "H13",
        "a receipt of kinds and counts, never values",
        response.status_code == 202
        and "凌某" not in str(receipt)
        and NEWCOMER not in str(receipt)
        and receipt["erased"].get("account") == 1,
    )
    _check(
        step,
        "H13",
        "nothing answers for him any more",
        after.status_code == 401 and recall.status_code == 404,
    )
    _check(step, "H12", "his sessions were revoked on the server", after.status_code == 401)
