"""The bot's keyboard builder lays buttons out exactly as aiogram's does, without its copies."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder
from hypothesis import given
from hypothesis import strategies as st

from views.callbacks import CardCb
from views.keyboards import InlineKeyboard

ops = st.lists(
    st.one_of(
        st.tuples(st.just("button"), st.integers(0, 99)),
        st.tuples(st.just("row"), st.lists(st.integers(0, 99), min_size=1, max_size=12)),
        st.tuples(st.just("adjust"), st.lists(st.integers(1, 8), max_size=4)),
    ),
    max_size=25,
)


@given(ops)
def test_same_layout_as_aiogram(steps) -> None:  # noqa: ANN001
    ours, theirs = InlineKeyboard(), InlineKeyboardBuilder()
    for op, arg in steps:
        if op == "button":
            for kb in (ours, theirs):
                kb.button(text=f"b{arg}", callback_data=CardCb(action="open", id=arg))
        elif op == "row":
            buttons = [InlineKeyboardButton(text=f"r{i}", callback_data=f"r{i}") for i in arg]
            ours.row(*buttons)
            theirs.row(*buttons)
        else:
            ours.adjust(*arg)
            theirs.adjust(*arg)
    assert ours.as_markup() == theirs.as_markup()


def test_the_edit_menu_offers_every_typed_and_picked_field_once() -> None:
    from core.contactfields import ENUM_FIELDS, TEXT_FIELDS
    from views.contacts import EDIT_ORDER, PICKED_FIELDS

    assert len(EDIT_ORDER) == len(set(EDIT_ORDER))
    assert set(EDIT_ORDER) == set(TEXT_FIELDS) | set(PICKED_FIELDS)
    assert PICKED_FIELDS == {"kind", "influence", "source", "icp_fit"}  # status, stage: on the card
    assert PICKED_FIELDS <= set(ENUM_FIELDS)
