"""Legal holds in the archive: created from a search or by id, audited, released only with a
second person's approval, which the database enforces too."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from callarchive.archive import AuditFilter, ConversationQuery, FourEyesError, HoldState
from callarchive.archive.schema import HoldReleaseRow
from callarchive.errors import ConfigurationError
from tests.retention.conftest import NOW, Setting


async def test_a_hold_takes_what_its_search_finds_and_more_by_id(setting: Setting) -> None:
    janes = await setting.archived("janes", age_days=10, user="jane")
    joes = await setting.archived("joes", age_days=10, user="joe")
    await setting.archived("anns", age_days=10, user="ann")
    holds = setting.archive.holds

    created = await holds.create(
        "Case 1", reason="SEC", actor="ann", matching=ConversationQuery(user="jane")
    )
    assert (created.state, created.conversations, created.created_by) == (
        HoldState.ACTIVE, 1, "ann",
    )  # fmt: skip
    assert await holds.add("Case 1", actor="bob", conversation_ids=[joes.id or 0]) == 1
    assert await holds.add("Case 1", actor="bob", conversation_ids=[joes.id or 0]) == 0
    assert await holds.conversation_ids("Case 1") == sorted([janes.id or 0, joes.id or 0])
    assert await holds.held([janes.id or 0, joes.id or 0]) == {janes.id, joes.id}
    actions = [e.action for e in await setting.archive.audit.list(AuditFilter(actor="ann"))]
    assert "legal_hold_created" in actions


async def test_names_are_unique_and_reasons_mandatory(setting: Setting) -> None:
    await setting.archive.holds.create("Case 1", reason="SEC", actor="ann")
    with pytest.raises(ConfigurationError) as taken:
        await setting.archive.holds.create("Case 1", reason="again", actor="ann")
    assert taken.value.field == "name"
    with pytest.raises(ConfigurationError) as blank:
        await setting.archive.holds.create("Case 2", reason="  ", actor="ann")
    assert blank.value.field == "reason"


async def test_a_release_needs_a_second_person_and_then_protects_nothing(
    setting: Setting,
) -> None:
    held = await setting.archived("held", age_days=5 * 365 + 1)
    holds = setting.archive.holds
    await holds.create("Case 3", reason="FINRA", actor="ann", conversation_ids=[held.id or 0])
    with pytest.raises(ConfigurationError):
        await holds.approve_release("Case 3", actor="bob")  # nothing requested
    await holds.request_release("Case 3", actor="ann")
    with pytest.raises(ConfigurationError):
        await holds.request_release("Case 3", actor="bob")  # already requested

    with pytest.raises(FourEyesError):
        await holds.approve_release("Case 3", actor="ann")
    assert (await holds.get("Case 3")).state is HoldState.ACTIVE
    assert await holds.held([held.id or 0]) == {held.id}

    released = await holds.approve_release("Case 3", actor="bob")
    assert released.state is HoldState.RELEASED
    assert released.released_at == NOW
    assert released.release is not None
    assert (released.release.requested_by, released.release.approved_by) == ("ann", "bob")
    assert await holds.held([held.id or 0]) == set()
    with pytest.raises(ConfigurationError):
        await holds.add("Case 3", actor="ann", conversation_ids=[held.id or 0])


async def test_the_database_refuses_an_approval_by_the_requester(setting: Setting) -> None:
    hold = await setting.archive.holds.create("Case 4", reason="audit", actor="ann")
    row = {"hold_id": hold.id, "requested_by": "ann", "requested_at": NOW}
    with pytest.raises(IntegrityError, match="four_eyes"):
        async with setting.archive.engine.begin() as connection:
            await connection.execute(
                insert(HoldReleaseRow).values(**row, approved_by="ann", approved_at=NOW)
            )
