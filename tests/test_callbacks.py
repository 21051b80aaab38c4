"""Every CallbackData factory packs its worst case within Telegram's 64 bytes."""

from __future__ import annotations

import pytest

from core.enums import Influence, InfluenceSource, Source, Stage, Status, TouchType
from core.timezones import COMMON_ZONES
from views.callbacks import (
    CardCb,
    CaseCb,
    DupCb,
    InviteCb,
    LangCb,
    ListCb,
    NpsCb,
    PickCb,
    RemindCb,
    SettingsCb,
    TzCb,
    for_card,
)
from views.digest import DigestCb, StatsCb

BIG = 2**31 - 1  # the largest id either database hands out for these tables
LONGEST_ENUM = max(
    (v.value for e in (Influence, InfluenceSource, Source, Stage, Status, TouchType) for v in e),
    key=len,
)

WORST = [
    InviteCb(role="manager", team_id=BIG),
    LangCb(code="ru"),
    TzCb(name=max(COMMON_ZONES, key=len)),
    SettingsCb(action="cadence"),
    CardCb(action="mrgw", id=BIG, value=str(BIG)),
    CardCb(action="set", id=BIG, value=f"influence={LONGEST_ENUM}"),
    ListCb(page=99_999, f="tag=" + "я" * 4),
    ListCb(page=99_999, f="stage=" + "identification"),
    DupCb(action="merge", id=BIG),
    PickCb(f="tt", v=for_card(LONGEST_ENUM, BIG)),  # the touch log's and next step's name a card
    RemindCb(a="resch", id=BIG, t=2**32 - 1),
    NpsCb(s=BIG, v=10),
    CaseCb(a="cont", id=BIG),
    DigestCb(s="overdue", u=BIG, t=BIG),
    StatsCb(a="rep", r=BIG, p="month"),
]


@pytest.mark.parametrize("cb", WORST, ids=lambda cb: type(cb).__name__)
def test_packs_within_64_bytes(cb) -> None:  # noqa: ANN001
    data = cb.pack()
    assert len(data.encode()) <= 64, data
    assert type(cb).unpack(data) == cb


async def test_a_tag_too_long_for_a_button_gets_a_clear_answer(tg) -> None:
    from tests.helpers import team_with_rep

    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/contacts #" + "я" * 30)
    assert "too long to filter by" in reply.text
    reply = await rep.send("/contacts #" + "a" * 30)
    assert "Contacts: 0" in reply.text
