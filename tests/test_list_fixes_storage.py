"""/today's counts and /contacts' combined filters on both databases: a card waiting for a reply
is counted once however many requests it has; the flags, tags and segments combine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.listfilter import ContactFilter
from core.roles import Role
from services import duework, followups, listing, today
from services.scope import Scope
from storage.db import create_session_factory
from storage.models import Contact, DueWork, Team, Touch, User

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_counts_and_combined_filters_on_both_databases(engine) -> None:  # noqa: ANN001
    async with create_session_factory(engine)() as s:
        team = Team(name="Sales", created_at=NOW)
        s.add(team)
        await s.flush()
        rep = User(tg_id=1, first_name="Rita", role="rep", team_id=team.id)
        rep.created_at = rep.last_seen_at = NOW
        s.add(rep)
        await s.flush()
        cards = []
        for n in range(14):
            c = Contact(owner_id=rep.id, team_id=team.id, name=f"Card{n:02}", stage="development")
            c.created_at = c.updated_at = c.verified_at = NOW - timedelta(days=1)
            c.tags = ";vip;" if n % 2 else ""
            c.segment = "retail" if n < 7 else "fintech"
            c.status = "lead" if n < 4 else "contact"
            c.next_step, c.next_step_due = "call", NOW - timedelta(days=n + 1)
            s.add(c)
            cards.append(c)
        await s.flush()
        for n, c in enumerate(cards[:12]):  # twelve wait for a reply, the first twice
            for extra in range(2 if n == 0 else 1):
                touch = Touch(contact_id=c.id, author_id=rep.id, type="message", direction="in")
                touch.occurred_at = NOW - timedelta(hours=n + 1 + 50 * extra)
                s.add(touch)
                await s.flush()
                work = DueWork(kind=followups.INBOUND_REP, key=f"in:{touch.id}", chat_id=1)
                work.user_id, work.contact_id, work.ref_id = rep.id, c.id, touch.id
                work.due_at = work.created_at = NOW
                work.status = duework.PENDING
                s.add(work)
        await s.commit()
        scope = Scope(rep.id, Role.REP, team.id)

        day = await today.build(
            s, scope, now=NOW, end_of_day=today.end_of_day(NOW, "UTC"), settings_cadence=""
        )
        assert day.counts == {"overdue": 14, "today": 0, "cold": 0, "inbound": 12}
        assert len(day.overdue) == len(day.inbound) == today.LIMIT
        assert [i.contact.name for i in day.inbound][:3] == ["Card00", "Card11", "Card10"]
        assert day.inbound[0].when == NOW - timedelta(hours=51)  # since the earliest request

        async def names(flt: ContactFilter, page: int = 0) -> tuple[list[str], int, int]:
            found = await listing.list_page(s, scope, flt, page, 8, now=NOW, end_of_day=NOW)
            return [c.name for c in found.rows], found.total, found.page

        assert (await names(ContactFilter(flag="waiting")))[1] == 12
        assert await names(ContactFilter(flag="waiting", tag="vip", segment="retail")) == (
            ["Card01", "Card03", "Card05"],
            3,
            0,
        )
        assert await names(ContactFilter(status="lead", tag="vip", flag="overdue"), 5) == (
            ["Card01", "Card03"],
            2,
            0,  # a page past the end: the last one
        )
        assert (await names(ContactFilter(flag="overdue"), 7))[1:] == (14, 1)
        assert await listing.segments_in_scope(s, scope) == ["fintech", "retail"]
        assert await listing.tags_in_scope(s, scope) == ["vip"]
        assert (await listing.owner_in_scope(s, scope, rep.id)) is not None
        assert (await listing.owner_in_scope(s, scope, rep.id + 1)) is None
