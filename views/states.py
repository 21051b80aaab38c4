"""The dialogues' states, shared by the handlers that start a dialogue and those that run it."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class AddForm(StatesGroup):
    name = State()
    company = State()
    position = State()
    phone = State()
    email = State()
    kind = State()
    source = State()
    influence = State()


class EditForm(StatesGroup):
    value = State()


class FindForm(StatesGroup):
    query = State()


class MergeForm(StatesGroup):
    query = State()


class IntroForm(StatesGroup):
    query = State()  # who introduced the card's person: a name, phone or e-mail


class LogForm(StatesGroup):
    contact = State()
    type = State()
    direction = State()
    summary = State()


class NextForm(StatesGroup):
    what = State()
    when = State()
    confirm = State()
    reason = State()
