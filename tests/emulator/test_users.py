"""Users: GET /api/v2/users/{userId} and GET /api/v2/users (API reference sections 6 and 7.3).

The directory must match the ground truth (names, extensions, direct numbers, the manager
hierarchy), answer bulk lookups by id, page like every classic entity listing, and keep users who
have left reachable with `state=deleted` or `state=any` for old recordings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import BASE
from tests.emulator.harness import RunningEmulator, assert_valid, serve

USERS = "/api/v2/users"
Json = dict[str, Any]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator shared by these read-only tests."""
    media = tmp_path_factory.mktemp("media")
    with serve(dataclasses.replace(BASE, cache_dir=str(media))) as running:
        yield running


@pytest.fixture(scope="module")
def truth(org: RunningEmulator) -> dict[str, Json]:
    """The ground truth's users by id."""
    return {u["id"]: u for u in org.ground_truth()["users"]}


@pytest.fixture
def api(org: RunningEmulator) -> Iterator[httpx.Client]:
    with org.api() as client:
        yield client


def _get(api: httpx.Client, path: str, **params: Any) -> Json:
    # httpx drops a URL's own query string when `params` is given, even empty: nextUri has one.
    response = api.get(path, params=params or None)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def _listing(api: httpx.Client, **params: Any) -> list[Json]:
    """Every user of a listing, following nextUri until it is absent."""
    users: list[Json] = []
    page = _get(api, USERS, **params)
    while True:
        users.extend(page["entities"])
        if "nextUri" not in page:
            return users
        page = _get(api, page["nextUri"])


def _assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert_valid(response.json(), "ErrorBody")
    assert response.json()["code"] == "not.found"
    assert response.json()["contextId"] == response.headers["ININ-Correlation-Id"]


def _phone_addresses(user: Json) -> tuple[set[str], set[str]]:
    """The user's direct numbers and internal extensions, from `addresses`."""
    phones = [a for a in user["addresses"] if a["mediaType"] == "PHONE"]
    return (
        {a["address"] for a in phones if "address" in a},
        {a["extension"] for a in phones if "extension" in a},
    )


# -- one user ------------------------------------------------------------------------------


def test_every_user_by_id_validates_against_the_user_model(
    api: httpx.Client, truth: dict[str, Json]
) -> None:
    for user_id in truth:
        assert_valid(_get(api, f"{USERS}/{user_id}", state="any"), "User")


def test_a_user_by_id_matches_the_ground_truth(api: httpx.Client, truth: dict[str, Json]) -> None:
    for user_id, expected in truth.items():
        user = _get(api, f"{USERS}/{user_id}", state="any")
        numbers, extensions = _phone_addresses(user)
        assert (user["id"], user["name"], user["username"], user["email"]) == (
            user_id,
            expected["name"],
            expected["username"],
            expected["username"],
        )
        assert (user["state"], user["title"]) == (expected["state"], expected["title"])
        assert (numbers, extensions) == ({expected["number"]}, {expected["extension"]})
        assert user.get("manager", {}).get("id") == expected["manager_id"]
        assert user["division"]["name"] == expected["division"]


@pytest.mark.parametrize(
    ("state", "found"),
    [(None, False), ("active", False), ("deleted", True), ("any", True)],
    ids=["default", "active", "deleted", "any"],
)
def test_a_deleted_user_is_found_by_id_only_when_deleted_users_are_asked_for(
    api: httpx.Client, truth: dict[str, Json], state: str | None, found: bool
) -> None:
    deleted = next(i for i, u in truth.items() if u["state"] == "deleted")
    response = api.get(f"{USERS}/{deleted}", params={} if state is None else {"state": state})
    if found:
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "deleted"
    else:
        _assert_not_found(response)


def test_an_unknown_user_is_not_found(api: httpx.Client) -> None:
    _assert_not_found(api.get(f"{USERS}/00000000-0000-4000-8000-000000000000"))


# -- listings ------------------------------------------------------------------------------


def test_a_listing_validates_against_the_user_entity_listing_model(api: httpx.Client) -> None:
    assert_valid(_get(api, USERS, pageSize=5, pageNumber=2, state="any"), "UserEntityListing")


@pytest.mark.parametrize(
    ("state", "states"),
    [
        (None, {"active"}),
        ("active", {"active"}),
        ("inactive", {"inactive"}),
        ("deleted", {"deleted"}),
        ("any", {"active", "inactive", "deleted"}),
    ],
    ids=["default", "active", "inactive", "deleted", "any"],
)
def test_the_state_parameter_selects_the_users_of_that_state(
    api: httpx.Client, truth: dict[str, Json], state: str | None, states: set[str]
) -> None:
    params = {"pageSize": 100} | ({} if state is None else {"state": state})
    ids = [u["id"] for u in _listing(api, **params)]
    assert sorted(ids) == sorted(i for i, u in truth.items() if u["state"] in states)


def test_following_next_uri_lists_every_user_exactly_once(
    api: httpx.Client, truth: dict[str, Json]
) -> None:
    ids = [u["id"] for u in _listing(api, pageSize=5, state="any")]
    assert len(ids) == len(set(ids)) == len(truth)
    assert set(ids) == set(truth)


def test_each_page_reports_its_position_and_the_total(
    api: httpx.Client, truth: dict[str, Json]
) -> None:
    total = len(truth)
    count = -(-total // 5)
    pages = [_get(api, USERS, pageSize=5, pageNumber=n, state="any") for n in range(1, count + 1)]
    assert count > 2
    for number, page in enumerate(pages, start=1):
        assert (page["pageNumber"], page["pageSize"]) == (number, 5)
        assert (page["total"], page["pageCount"]) == (total, count)
        assert ("previousUri" in page) is (number > 1)
        assert ("nextUri" in page) is (number < count)
    assert [len(p["entities"]) for p in pages] == [5] * (count - 1) + [total - 5 * (count - 1)]


def test_previous_uri_leads_back_to_the_previous_page(api: httpx.Client) -> None:
    first = _get(api, USERS, pageSize=4, state="any")
    second = _get(api, first["nextUri"])
    again = _get(api, second["previousUri"])
    assert again["entities"] == first["entities"]
    assert second["entities"] != first["entities"]


def test_a_page_beyond_the_last_is_empty(api: httpx.Client, truth: dict[str, Json]) -> None:
    page = _get(api, USERS, pageSize=5, pageNumber=10, state="any")
    assert page["entities"] == []
    assert page["total"] == len(truth)


@pytest.mark.parametrize(
    ("picked_states", "state"),
    [
        (("active", "active"), None),
        (("active", "inactive", "deleted"), "any"),
        (("deleted",), "deleted"),
    ],
    ids=["two-active", "one-of-each-state", "deleted-only"],
)
def test_an_id_list_returns_exactly_those_users(
    api: httpx.Client,
    truth: dict[str, Json],
    picked_states: tuple[str, ...],
    state: str | None,
) -> None:
    picked: list[str] = []
    for wanted in picked_states:
        picked.append(next(i for i, u in truth.items() if u["state"] == wanted and i not in picked))
    params: list[tuple[str, str]] = [("id", i) for i in picked]
    if state is not None:
        params.append(("state", state))
    response = api.get(USERS, params=params)
    assert response.status_code == 200, response.text
    assert_valid(response.json(), "UserEntityListing")
    assert sorted(u["id"] for u in response.json()["entities"]) == sorted(picked)


@pytest.mark.parametrize(
    "params",
    [{"pageSize": "0"}, {"pageSize": "many"}, {"pageNumber": "0"}, {"state": "retired"}],
    ids=["size-0", "size-word", "page-0", "unknown-state"],
)
def test_a_malformed_listing_request_is_refused_with_400(
    api: httpx.Client, params: dict[str, str]
) -> None:
    response = api.get(USERS, params=params)
    assert response.status_code == 400, response.text
    assert_valid(response.json(), "ErrorBody")


def test_users_need_no_permission(emulator: RunningEmulator) -> None:
    emulator.control(
        "POST",
        "clients",
        json={"client_id": "no-roles", "client_secret": "no-roles-secret", "permissions": []},
    )
    with emulator.api(emulator.token("no-roles", "no-roles-secret")) as api:
        users = _get(api, USERS)["entities"]
        one = api.get(f"{USERS}/{users[0]['id']}")
    assert users
    assert one.status_code == 200, one.text


# -- the hierarchy -------------------------------------------------------------------------


def test_managers_form_one_hierarchy_with_a_single_root(api: httpx.Client) -> None:
    users = {u["id"]: u for u in _listing(api, pageSize=100, state="any")}
    managers = {i: u.get("manager", {}).get("id") for i, u in users.items()}
    roots = [i for i, manager in managers.items() if manager is None]
    assert len(roots) == 1
    assert all(m is None or m in users for m in managers.values())
    for user_id in users:
        seen = {user_id}
        while (user_id := managers[user_id]) is not None:  # walks up to the root, no cycle
            assert user_id not in seen
            seen.add(user_id)
    assert len(set(managers.values()) - {None}) > 1  # more than one level below the root
