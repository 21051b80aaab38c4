"""CallbackData factories. Every packed value must fit Telegram's 64 bytes: tests/test_callbacks.py."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class InviteCb(CallbackData, prefix="inv"):
    role: str
    team_id: int = 0


class LangCb(CallbackData, prefix="lang"):
    code: str


class TzCb(CallbackData, prefix="tz"):
    name: str


class SettingsCb(CallbackData, prefix="set"):
    action: str


class CardAction(StrEnum):
    """What a card's button does; each has its own handler (packed as the short value)."""

    OPEN = "open"
    STATUS = "status"
    STAGE = "stage"
    ASK = "ask"  # choose a value for the field in ``value`` (the missing-fields keyboard)
    SET = "set"  # ``value`` is "field=value"
    ARCHIVE = "arch"
    RESTORE = "restore"
    TIMELINE = "tl"  # ``value`` is the page
    EDIT = "edit"
    EDIT_FIELD = "ef"  # ``value`` is the field
    MERGE = "mrg"
    MERGE_WITH = "mrgw"  # ``value`` is the other card's id: shows what the merge would do
    MERGE_OK = "mrgok"  # ``value`` is "other id.stamp" (services.merging.MergePreview.stamp)
    MERGE_NO = "mrgno"  # ``value`` is the other card's id
    INTRO = "intro"  # ask who introduced the person
    INTRO_BY = "introby"  # ``value`` is the introducer's card id
    OWNER = "own"
    OWNER_TO = "ownto"  # ``value`` is the new owner's user id
    VERIFY = "verify"
    DELIVERED = "deliv"
    CLIENT = "client"  # mark the contact a client (offered after a delivery)
    LOG = "log"
    FORWARD_LOG = "fwdlog"  # log the forwarded message as a touch
    NOTE_LOG = "notelog"  # log a note typed outside any dialogue as a touch
    NEXT = "next"
    NOTES = "notes"  # the whole notes, when the card shows an excerpt
    REFERRAL = "refadd"  # add a card for the person this card's promoter recommends


class CardCb(CallbackData, prefix="cc"):
    """An action on a contact card; the id is always re-checked against the user's scope."""

    action: CardAction
    id: int
    value: str = ""


class ListCb(CallbackData, prefix="cl"):
    page: int = 0
    f: str = ""  # filter as field=value, e.g. "status=lead"


class DupAction(StrEnum):
    OPEN = "open"
    MERGE = "merge"
    ADD = "add"


class DupCb(CallbackData, prefix="dup"):
    """A choice on the "possible duplicate" prompt; ``id`` is re-checked against the scope."""

    action: DupAction
    id: int = 0


class ResumeCb(CallbackData, prefix="rs"):
    """Go back into a dialogue a command left (its answers are kept in the FSM data)."""

    d: str  # the dialogue: "add", "next"
    n: int  # which time it was left (the leaving command's message id): an older note's
    # button does not bring back a later dialogue


class PickCb(CallbackData, prefix="pk"):
    """A value chosen for a field in a dialogue (wizard, touch log). ``v`` names what the
    dialogue is about too (:func:`for_card`)."""

    f: str
    v: str


def for_card(value: str, card_id: int) -> str:
    """A dialogue button's value with the card it is about (or, in /add, the dialogue): "ok@12".
    One tapped under an older question, about another, does nothing to the one asked about now
    (the handlers compare it with the dialogue's own)."""
    return f"{value}@{card_id}"


def of_card(packed: str) -> tuple[str, str]:
    """(the value, the card's or dialogue's id as written) of such a button's value."""
    value, _sep, card = packed.rpartition("@")
    return value, card


class RemindCb(CallbackData, prefix="rm"):
    """Buttons on reminders and checks; ``id`` is a contact id, re-checked against the scope."""

    a: str  # ok | s1h | stom | swk | resch (a reminder) | done | lrep | open | vyes | vno | next
    id: int
    t: int = 0  # a reminder's step stamp (services.followups.step_stamp); "lrep": the client
    # message's touch id (0 on alerts sent before it was carried); 0 on other messages


class NpsCb(CallbackData, prefix="n"):
    """A score tap: the survey id and the score are re-checked on the server."""

    s: int
    v: int


class CaseCb(CallbackData, prefix="cs"):
    a: str  # take | cont | res
    id: int


class ForgetCb(CallbackData, prefix="fg"):
    """Erasing personal data: a card (``id``, re-checked against the scope) or oneself (0)."""

    a: str  # ask | card (from a card's 🗑 Forget) | do | no
    id: int = 0
