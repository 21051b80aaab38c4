"""What PostgreSQL used to refuse (a NUL byte, tags over 1,024 characters) is stored safely on
both databases, through the same service path the chat and the import use."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services import contacts as svc
from storage.db import create_session_factory
from storage.models import Contact, Touch, User
from storage.uow import write_session

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_nul_bytes_and_too_many_tags_are_stored_safely(engine) -> None:
    factory = create_session_factory(engine)
    async with write_session(factory) as s:
        owner = User(tg_id=1, first_name="Rita", created_at=NOW, last_seen_at=NOW)
        s.add(owner)
        await s.flush()
        c = await svc.create(
            s,
            owner=owner,
            data={"name": "Nul\x00 Byte", "company": "Acme\x00", "notes": "a\x00b"},
            tags=[f"tag{i:03d}{'x' * 25}" for i in range(60)],
            now=NOW,
        )
        await svc.change(s, c, actor=owner, now=NOW, position="CTO\x00", tags=["#a"] * 3)
        await svc.log_touch(
            s, c, author=owner, type_="call", direction="out", summary="s\x00" * 3000, now=NOW
        )
    async with factory() as s:
        stored = await s.scalar(select(Contact))
        touch = await s.scalar(select(Touch))
    assert stored.name == "Nul Byte" and stored.company == "Acme" and stored.notes == "ab"
    assert stored.position == "CTO" and stored.tags == ";a;"
    assert len(touch.summary) == 3000 and "\x00" not in touch.summary


async def test_sixty_tags_fit_the_column(engine) -> None:
    factory = create_session_factory(engine)
    async with write_session(factory) as s:
        owner = User(tg_id=2, first_name="Rita", created_at=NOW, last_seen_at=NOW)
        s.add(owner)
        await s.flush()
        await svc.create(
            s,
            owner=owner,
            data={"name": "Tagged"},
            tags=[f"{i:02d}" + "t" * 30 for i in range(60)],
            now=NOW,
        )
    async with factory() as s:
        stored = await s.scalar(select(Contact))
    assert len(svc.tag_list(stored.tags)) == 20 and len(stored.tags) <= 1024
