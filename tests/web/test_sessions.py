"""Sign-in security: sessions, CSRF, fixation, the throttle, security headers."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.archive import Throttle
from callarchive.web import security
from callarchive.web.auth import SESSION_COOKIE
from callarchive.web.pages.session import safe_next
from tests.web.site import PASSWORD, Site, csrf_of, sign_in

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_a_password_hash_verifies_only_its_password() -> None:
    stored = security.hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert security.verify_password(stored, "a long enough password")
    assert not security.verify_password(stored, "another password!")
    assert not security.verify_password(None, "a long enough password")
    assert not security.verify_password("not a hash", "a long enough password")


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("short", False), ("twelve chars", True), (" padded password ", False)],
)
def test_passwords_need_a_minimum_length(password: str, accepted: bool) -> None:
    assert (security.password_problem(password) is None) is accepted


def test_failures_lock_out_after_the_limit_and_the_lock_doubles() -> None:
    throttle = Throttle()
    locks = []
    for _ in range(7):
        failure = security.after_failure(throttle, NOW, lock_after=5)
        throttle = Throttle(
            failures=failure.failures, last_failure_at=NOW, locked_until=failure.locked_until
        )
        locks.append(failure.locked_until and failure.locked_until - NOW)
    minute = dt.timedelta(minutes=1)
    assert locks == [None, None, None, None, minute, 2 * minute, 4 * minute]
    assert security.locked(throttle, NOW) == NOW + 4 * minute
    assert security.locked(throttle, NOW + 5 * minute) is None


def test_old_failures_are_forgotten() -> None:
    old = Throttle(failures=4, last_failure_at=NOW - dt.timedelta(hours=1))
    assert security.after_failure(old, NOW, lock_after=5).failures == 1


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/conversations/3", "/conversations/3"),
        ("https://evil.example/", "/conversations"),
        ("//evil.example/", "/conversations"),
        ("/\\evil.example", "/conversations"),
        ("", "/conversations"),
    ],
)
def test_after_signing_in_only_local_paths_are_followed(target: str, expected: str) -> None:
    assert safe_next(target) == expected


async def test_signing_in_starts_a_new_session_whatever_cookie_came_before(
    shared_site: Site,
) -> None:
    planted = "attacker-chosen-session-token"
    async with shared_site.client(cookies={SESSION_COOKIE: planted}) as client:
        answer = await sign_in(client, "jane")
        assert answer.status_code == 303
        issued = answer.cookies[SESSION_COOKIE]
        assert issued != planted
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
    async with shared_site.client(cookies={SESSION_COOKIE: planted}) as other:
        assert (await other.get("/api/v1/me")).status_code == 401


async def test_signing_out_ends_the_session_on_the_server(shared_site: Site) -> None:
    async with shared_site.signed_in("jane") as client:
        token = client.cookies[SESSION_COOKIE]
        page = await client.get("/conversations")
        out = await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303
    async with shared_site.client(cookies={SESSION_COOKIE: token}) as replay:
        assert (await replay.get("/api/v1/me")).status_code == 401


async def test_a_post_without_the_csrf_token_is_refused(shared_site: Site) -> None:
    async with shared_site.signed_in("jane") as client:
        refused = await client.post("/logout", data={"csrf_token": "forged"})
        missing = await client.post("/logout")
        assert (refused.status_code, missing.status_code) == (403, 403)
        assert (await client.get("/api/v1/me")).status_code == 200


async def test_the_sign_in_form_needs_its_own_csrf_cookie(shared_site: Site) -> None:
    async with shared_site.client() as client:
        answer = await client.post(
            "/login", data={"login": "jane", "password": PASSWORD, "csrf_token": "forged"}
        )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies


async def test_wrong_passwords_lock_the_login_out(site: Site) -> None:
    async with site.client() as client:
        answers = [(await sign_in(client, "joe", "wrong password!")).status_code for _ in range(5)]
        assert answers == [401, 401, 401, 401, 401]
        locked = await sign_in(client, "joe")  # the right password, but too late
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert (await sign_in(client, "jane")).status_code == 303  # other logins still work
    archive = site.archive()
    try:
        actions = [e.action for e in await archive.audit.list() if e.target == "joe"]
    finally:
        await archive.close()
    assert actions.count("sign_in_failed") == 5


async def test_an_unknown_login_gets_the_same_answer_as_a_wrong_password(
    shared_site: Site,
) -> None:
    async with shared_site.client() as client:
        unknown = await sign_in(client, "nobody", "whatever password")
        wrong = await sign_in(client, "pat", "whatever password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong login or password." in unknown.text
    assert "Wrong login or password." in wrong.text


async def test_every_answer_carries_the_security_headers(shared_site: Site) -> None:
    async with shared_site.client() as client:
        for path in ["/login", "/conversations", "/api/v1/conversations", "/static/app.css"]:
            answer = await client.get(path)
            for name, value in security.SECURITY_HEADERS.items():
                assert answer.headers.get(name) == value, (path, name)


async def test_a_session_expires_when_idle(site: Site) -> None:
    async with site.signed_in("jane") as client:
        token = client.cookies[SESSION_COOKIE]
    archive = site.archive()
    try:
        session = await archive.accounts.session(security.digest(token))
        assert session is not None
        assert session.expires_at - session.created_at == dt.timedelta(minutes=30)
        await archive.accounts.touch_session(
            security.digest(token), expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    finally:
        await archive.close()
    async with site.client(cookies={SESSION_COOKIE: token}) as client:
        assert (await client.get("/api/v1/me")).status_code == 401
