"""Merging two cards cannot be undone: the first tap shows what would happen, only ✅ Merge
merges (once), and a preview that no longer holds merges nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Contact, Touch
from tests.helpers import another_rep, speak, team_with_rep
from views.callbacks import CardAction, CardCb

BIG = 2**31 - 1


async def cards(tg) -> list[Contact]:
    async with tg.app.session_factory() as s:
        return list(await s.scalars(select(Contact).order_by(Contact.id)))


async def two_cards(rep) -> None:
    """Paul Green (kept, no step) and Pavel Grin (to merge: a touch, a step, a phone, a tag)."""
    await rep.send("/add Paul Green, Pi")
    await rep.send("/add Pavel Grin, Pixel, +79990002233 #vip")
    await rep.send("/log Pavel")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("second card's call")
    await rep.send("send the proposal")
    await rep.send("tomorrow 10:00")
    await rep.click("Confirm")


def confirm_of(reply) -> tuple[str, dict]:
    """The preview's ✅ Merge, kept to be tapped later (its buttons go after a tap)."""
    [[ok, _cancel]] = reply.last["reply_markup"]["inline_keyboard"]
    return ok["callback_data"], reply.last


async def preview_of(rep):
    """Paul Green's Edit › Merge with… › Pavel Grin: the preview."""
    await rep.send("/find Paul Green")
    await rep.click("Edit")
    await rep.click("Merge with")
    await rep.send("Pavel")
    return await rep.click("Pavel Grin")


async def test_first_tap_previews_and_only_confirm_merges_once(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await two_cards(rep)
    reply = await preview_of(rep)
    text = reply.text
    assert "cannot be undone" in text
    assert "Stays: Paul Green, Pi · owner Rita" in text
    assert "Goes: Pavel Grin" in text and "gone" in text
    assert "1 touch" in text
    assert "send the proposal" in text  # its step comes over (Paul Green has none)
    assert "+7 999 000-22-33" in text  # the phone fills the empty one
    assert "Pi (not Pixel)" in text  # the company differs: the kept card's wins
    assert "#vip" in text
    assert reply.buttons == ["✅ Merge", "Cancel"]
    assert len(await cards(tg)) == 2  # nothing merged yet
    data, preview = confirm_of(reply)
    reply = await rep.tap_data(data, preview)
    assert "Merged" in reply.text and "+7 999 000-22-33" in reply.text
    assert not reply.errors
    [kept] = await cards(tg)
    assert kept.name == "Paul Green" and kept.next_step == "send the proposal"
    # the same button again (a double tap, or a second client): merged once
    reply = await rep.tap_data(data, preview)
    assert reply.answer["text"] == "Already merged."
    assert len(await cards(tg)) == 1
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Touch.id))) == 1


async def test_cancel_merges_nothing(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await two_cards(rep)
    await preview_of(rep)
    reply = await rep.click("Cancel")
    assert "Not merged: both cards stay." in reply.text
    assert len(await cards(tg)) == 2


async def test_preview_of_a_card_changed_since_is_refused(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await two_cards(rep)
    data, preview = confirm_of(await preview_of(rep))
    await rep.send("/log Pavel")  # one more touch on the card to go: the preview said 1
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("another call")
    await rep.send("/cancel")
    reply = await rep.tap_data(data, preview)
    assert reply.answer["show_alert"] and "has changed, or is gone" in reply.answer["text"]
    assert len(await cards(tg)) == 2
    # a fresh preview says 2 touches, and merges
    reply = await preview_of(rep)
    assert "2 touches" in reply.text
    reply = await rep.tap_data(*confirm_of(reply))
    assert "Merged" in reply.text and len(await cards(tg)) == 1


async def test_preview_of_an_archived_or_merged_card_is_refused(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await two_cards(rep)
    first = confirm_of(await preview_of(rep))
    await rep.send("/find Pavel")
    await rep.click("Archive")
    reply = await rep.tap_data(*first)
    assert reply.answer["show_alert"] and "has changed, or is gone" in reply.answer["text"]
    assert len(await cards(tg)) == 2
    await rep.send("/find Pavel -a")
    await rep.click("Restore")
    second = confirm_of(await preview_of(rep))
    third = confirm_of(await preview_of(rep))
    reply = await rep.tap_data(*third)
    assert "Merged" in reply.text
    reply = await rep.tap_data(*second)  # its other card is gone now
    assert reply.answer["show_alert"] and "has changed, or is gone" in reply.answer["text"]
    assert len(await cards(tg)) == 1


async def test_a_card_out_of_scope_is_not_merged(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    other = await another_rep(tg, manager, 4004, "Oleg")
    await other.send("/add Olga Other, Elsewhere")
    await two_cards(rep)
    mine, _pavel, theirs = await cards(tg)
    data, preview = confirm_of(await preview_of(rep))
    stamp = CardCb.unpack(data)
    forged = CardCb(
        action=CardAction.MERGE_OK,
        id=mine.id,
        value=f"{theirs.id}." + stamp.value.partition(".")[2],
    )
    reply = await rep.tap_data(forged.pack(), preview)
    assert "Merged" not in reply.text
    forged = CardCb(action=CardAction.MERGE_WITH, id=mine.id, value=str(theirs.id))
    reply = await rep.tap_data(forged.pack(), preview)
    assert "Contact not found." in reply.text and "Merge the two" not in reply.text
    assert len(await cards(tg)) == 3


async def test_preview_in_russian(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await speak(rep, "ru")
    await two_cards_ru(rep)
    reply = await rep.click(1)  # the preview's first button merges
    assert len(await cards(tg)) == 1
    assert not reply.errors


async def two_cards_ru(rep) -> None:
    await rep.send("/add Paul Green, Pi")
    await rep.send("/add Pavel Grin, Pixel, +79990002233 #vip")
    await rep.send("/find Paul Green")
    await rep.click("✏️")
    await rep.click("🔀")
    await rep.send("Pavel")
    reply = await rep.click("Pavel Grin")
    assert "Pavel Grin" in reply.text and len(reply.buttons) == 2


def test_confirm_button_fits_64_bytes() -> None:
    data = CardCb(action=CardAction.MERGE_OK, id=BIG, value=f"{BIG}.0123456789").pack()
    assert len(data.encode()) <= 64
    assert len(CardCb(action=CardAction.MERGE_NO, id=BIG, value=str(BIG)).pack()) <= 64
