"""Touches and next steps on screen: the touch log's and the next step's questions, their
buttons, and the two entry points other features open these dialogues with."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import _, ngettext
from core import limits
from core.enums import Direction, TouchType
from core.mentions import is_small_talk, words
from core.nextstep import Reading, When, format_day, format_local
from core.textsplit import TELEGRAM_LIMIT, excerpt, utf16_len
from views.callbacks import CardAction, CardCb, PickCb, ResumeCb, for_card, of_card
from views.keyboards import InlineKeyboard, way_back
from views.labels import label, label_text
from views.rendering import card_titles, drop_keyboard, h
from views.states import LogForm, NextForm

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact

NO_STEP_REASONS = ("lost", "not_fit", "done", "other")
QUICK_WHEN = {"t10": "tomorrow 10:00", "d3": "in 3 days", "w1": "in 1 week"}


def reason_label(code: str) -> str:
    return {
        "lost": _("lost"),
        "not_fit": _("not a fit"),
        "done": _("deal closed, nothing planned"),
        "other": _("other (type it)"),
    }[code]


def type_keyboard(card_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    for t in TouchType:
        kb.button(
            text=label_text("touch", t.value),
            callback_data=PickCb(f="tt", v=for_card(t.value, card_id)),
        )
    kb.adjust(3)
    return kb.as_markup()


def direction_question(touch_type: str, card_id: int) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboard()
    for d in Direction:
        kb.button(
            text=label_text("direction", d.value),
            callback_data=PickCb(f="td", v=for_card(d.value, card_id)),
        )
    kind = label("touch", touch_type)
    text = _("{type}: outbound (you reached out) or inbound (they came to you)?").format(
        type=kind[:1].upper() + kind[1:]
    )
    return text, kb.as_markup()


def summary_question(card_id: int, *, forwarded: bool) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboard()
    if forwarded:
        kb.button(
            text=_("Use the forwarded text"),
            callback_data=PickCb(f="ts", v=for_card("fwd", card_id)),
        )
    kb.button(text=_("Skip"), callback_data=PickCb(f="ts", v=for_card("skip", card_id)))
    return _("A short summary of the touch? (or Skip)"), kb.as_markup()


def what_keyboard(card_id: int, *, keep: bool = False) -> InlineKeyboardMarkup:
    """Under "What is the next step?" for a card (``keep``: its planned step may stay)."""
    kb = InlineKeyboard()
    if keep:
        kb.button(text=_("📌 Keep it"), callback_data=PickCb(f="nx", v=for_card("keep", card_id)))
    kb.button(text=_("No next step"), callback_data=PickCb(f="nx", v=for_card("none", card_id)))
    return kb.as_markup()


def step_kept(planned: str) -> str:
    """The planned step stays as it was, with its reminder."""
    return _("📌 The next step stays: {planned}.").format(planned=planned)


def when_keyboard(card_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    for code, text in (
        ("t10", _("Tomorrow 10:00")),
        ("d3", _("In 3 days")),
        ("w1", _("In a week")),
    ):
        kb.button(text=text, callback_data=PickCb(f="wh", v=for_card(code, card_id)))
    kb.adjust(3)
    return kb.as_markup()


def when_question() -> str:
    return _("When? E.g. “tomorrow 10:00”, “in 3 days”, “next friday”, “через 2 недели”.")


def what_on_question(when: str) -> str:
    """The rep sent only a date for the next step: it is kept, the step itself asked for."""
    return _("{when}: what is the next step? E.g. “send the proposal”.").format(when=when)


def date_not_reason(text: str, when: str) -> str:
    """A date typed as the reason for no next step: most likely the step's time."""
    return _(
        "“{text}” reads as a date: {when}. What is the next step then? To give it as the "
        "reason all the same, tap “No next step” and send it again."
    ).format(text=h(text[:100]), when=when)


def confirm_question(
    when: str, *, past: bool, reminder: str | None, owner: str | None, what: str | None
) -> str:
    """ "Next step on …. Right?" (``reminder``: when the reminder comes, moved into working
    hours — the rep's own, or ``owner``'s; ``what``: the step, typed in the same message)."""
    if past:
        question = _("⚠️ {when} is in the past. Save it anyway?").format(when=when)
    elif reminder is None:
        question = _("Next step on {when}. Right?").format(when=when)
    elif owner is None:
        question = _(
            "Next step on {when}. The reminder will come on {reminder}, in your working hours. Right?"
        ).format(when=when, reminder=reminder)
    else:
        question = _(
            "Next step on {when}. The reminder will come to {name} on {reminder}, in their working hours. Right?"
        ).format(when=when, name=h(owner), reminder=reminder)
    return step_line(what) + "\n" + question if what else question


def planned_step(contact: Contact, tz: str, lang: str) -> str | None:
    """The card's step and its time as the rep reads them ("call back, Tue, 24 Nov 2026,
    10:00"), escaped; None when it has none."""
    if not contact.next_step or contact.next_step_due is None:
        return None
    return f"{h(contact.next_step)}, {format_local(contact.next_step_due, tz, lang)}"


def step_line(what: str) -> str:
    """The step above its due time's confirmation, when both came in one message."""
    return _("Step: {what}").format(what=h(what))


def reasons_keyboard(card_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    for code in NO_STEP_REASONS:
        kb.button(text=reason_label(code), callback_data=PickCb(f="nr", v=for_card(code, card_id)))
    kb.adjust(2)
    return kb.as_markup()


def reasons_prompt(card_id: int) -> dict[str, Any]:
    """ "A next step can be skipped only with a reason:" with the reasons, as message kwargs."""
    return {
        "text": _("A next step can be skipped only with a reason:"),
        "reply_markup": reasons_keyboard(card_id),
    }


_NO_STEP_WORDS = {"-", "–", "—", "skip", "none", "no", "nothing", "no next step", "no step"}
_NO_STEP_WORDS_RU = {"пропустить", "нет", "никакого", "ничего", "без шага", "без следующего шага"}


def no_step_typed(text: str) -> bool:
    """ "No next step", "skip", "нет" typed for the step instead of tapping the button (the
    words were saved as the step itself, with a reminder)."""
    typed = text.strip().strip(".!").strip().casefold()
    known = (
        _NO_STEP_WORDS | _NO_STEP_WORDS_RU | {_("No next step").casefold(), _("Skip").casefold()}
    )
    return typed in known


def date_refused(when: When) -> bool:
    """A step typed as a date that is no date ("31 февраля", "завтра в 25:00", "01.01.2020"):
    said so, as at "When?", not kept as the step's words."""
    refused = (Reading.NO_SUCH_DAY, Reading.NO_SUCH_TIME, Reading.TOO_EARLY, Reading.TOO_LATE)
    return when.status in refused


def confirm_keyboard(card_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    kb.button(text=_("✅ Confirm"), callback_data=PickCb(f="nc", v=for_card("ok", card_id)))
    kb.button(text=_("Change"), callback_data=PickCb(f="nc", v=for_card("change", card_id)))
    return kb.as_markup()


async def start_touch_log(
    target: Message,
    state: FSMContext,
    contact: Contact,
    summary: str = "",
    *,
    typed: bool = False,
    direction: str | None = None,
) -> None:
    """Open the touch log for a card (``summary``: a forwarded message's text to offer; with
    ``typed``, a note the rep typed, which is the summary without asking; ``direction`` known
    already — a reply to a client's message is outbound — is not asked)."""
    await state.clear()
    await state.set_state(LogForm.type)
    await state.update_data(cid=contact.id, cname=contact.name, summary=summary, typed=typed)
    if direction is not None:  # the bot's, not the rep's: not "given" when the log is left
        await state.update_data(direction=direction, preset=True)
    await target.answer(type_question(contact.name), reply_markup=type_keyboard(contact.id))


def type_question(name: str) -> str:
    return _("Touch with <b>{name}</b>. What kind?").format(name=h(name))


LABELLED = (("touch", "type"), ("direction", "direction"))  # the touch's choices, as shown


def touch_left(
    current: str, data: dict[str, Any], n: int, *, tap: bool = False
) -> tuple[str, InlineKeyboardMarkup] | None:
    """A command (``tap``: a button of another message) ended the touch log after its kind, direction, words or a file were given (or
    a typed note was waiting for its card): say the touch was not saved, show what was given,
    offer to go back to it. Only a card picked: nothing to lose, nothing to say."""
    note = (data.get("note") or {}).get("text") if not data.get("cid") else None
    words = data.get("summary") or note or ""
    preset = {"direction"} if data.get("preset") else set()  # known to the bot, not given
    given = [
        label_text(group, data[key])
        for group, key in LABELLED
        if data.get(key) and key not in preset
    ]
    if words:
        shown, cut = excerpt(words, 100)
        given.append("“" + shown + ("…" if cut else "") + "”")
    if data.get("media"):
        given.append(_("a file"))
    if not given:
        return None
    name = h(data.get("cname") or "…")
    if data.get("cid") and tap:
        text = _(
            "✋ The touch with {name} was not saved: a button of another message ends the dialogue."
        ).format(name=name)
    elif data.get("cid"):
        text = _("✋ The touch with {name} was not saved: a command ends the dialogue.").format(
            name=name
        )
    elif tap:
        text = _("✋ The note was not logged: a button of another message ends the dialogue.")
    else:
        text = _("✋ The note was not logged: a command ends the dialogue.")
    given_text = _("Given so far: {fields}").format(fields=h(" · ".join(given)))
    return way_back(text, given_text, _("↩️ Back to the touch"), ResumeCb(d="log", n=n))


async def start_next_step(
    target: Message,
    state: FSMContext,
    contact: Contact,
    prefix: str = "",
    *,
    planned: str | None = None,
) -> None:
    """Ask for a card's next step (``prefix``: what was just done, on the line before;
    ``planned``: the step the card has, shown, with 📌 Keep it — after a touch, a rep who
    planned the step before need not type it again)."""
    await state.set_state(NextForm.what)
    await state.update_data(cid=contact.id, cname=contact.name)  # the name: for step_left
    question = _("What is the next step with <b>{name}</b>? (e.g. “send the proposal”)").format(
        name=h(contact.name)
    )
    if planned:
        question += "\n" + _("Planned now: {planned}").format(planned=planned)
    await target.answer(
        prefix + question, reply_markup=what_keyboard(contact.id, keep=bool(planned))
    )


def when_refusal(text: str, when: When, lang: str) -> str:
    """Why no next step can be set for the time typed as ``text``, and what would do."""
    span = {
        "earliest": format_day(when.earliest, lang),
        "latest": format_day(when.latest, lang),
    }
    if when.status is Reading.TOO_EARLY:
        refusal = _(
            "“{text}” is too far in the past. A next step can be set from {earliest} to {latest}."
        ).format(text=h(text[:100]), **span)
    elif when.status is Reading.TOO_LATE:
        refusal = _(
            "“{text}” is too far in the future. A next step can be set from {earliest} to {latest}."
        ).format(text=h(text[:100]), **span)
    elif when.status is Reading.NO_SUCH_TIME:
        refusal = _(
            "No clock shows the time in “{text}”: hours go from 0 to 23, minutes from 00 to 59. Try e.g. “tomorrow 15:00”."
        ).format(text=h(text[:100]))
    elif when.status is Reading.NO_SUCH_DAY:
        refusal = _(
            "No calendar has the day in “{text}”. Try e.g. “tomorrow 10:00” or “01.12 15:00”."
        ).format(text=h(text[:100]))
    else:
        refusal = _(
            "I couldn't read a date in “{text}”. Try “tomorrow 10:00”, “in 3 days”, “next friday” or “01.12 15:00”."
        ).format(text=h(text[:100]))
    return refusal


def step_left(
    current: str, data: dict[str, Any], n: int, *, tap: bool = False
) -> tuple[str, InlineKeyboardMarkup] | None:
    """A command (``tap``: a button of another message) ended the next-step dialogue after the step or its time was typed: say that
    the step was not saved, show what was typed, offer to go back to it (nothing typed: the
    card keeps what it had, nothing to say)."""
    when = data.get("due_shown") or data.get("when_text")
    # moving a reminder's step: the step is the card's already, only a new time is typed
    what = None if data.get("moving") and not when else data.get("what")
    typed = [t for t in (what, when) if t]
    if not typed or not data.get("cid"):
        return None
    text = (
        _(
            "✋ The next step with {name} was not saved: a button of another message ends the "
            "dialogue."
        )
        if tap
        else _("✋ The next step with {name} was not saved: a command ends the dialogue.")
    ).format(name=h(data.get("cname") or "…"))
    typed_text = _("Typed so far: {fields}").format(fields=h(" · ".join(typed)))
    return way_back(text, typed_text, _("↩️ Back to the next step"), ResumeCb(d="next", n=n))


async def ask_again(
    message: Message, state: FSMContext, at: str | None, data: dict[str, Any], contact: Contact
) -> None:
    """Back into the touch log a command left: its question at ``at`` asked again."""
    if at == LogForm.summary.state:
        await state.set_state(LogForm.summary)
        text, markup = summary_question(contact.id, forwarded=bool(data.get("summary")))
    elif at == LogForm.direction.state and data.get("type"):
        await state.set_state(LogForm.direction)
        text, markup = direction_question(data["type"], contact.id)
    else:
        await state.set_state(LogForm.type)
        text, markup = type_question(contact.name), type_keyboard(contact.id)
    await message.answer(text, reply_markup=markup)


async def ask_step_again(
    message: Message, state: FSMContext, data: dict[str, Any], contact: Contact
) -> None:
    """Back into the next step a command left, before its time was confirmed."""
    if not data.get("what"):
        return await start_next_step(message, state, contact)
    await state.set_state(NextForm.when)
    text = step_line(data["what"]) + "\n" + when_question()
    await message.answer(text, reply_markup=when_keyboard(contact.id))


def touch_gone() -> str:
    return _("That unfinished touch is no longer kept. /log to log it again.")


def step_gone() -> str:
    return _("That unfinished next step is no longer kept. Open the card to set one: /find")


def pick_for_log(found: list[Contact], *, note: bool = False) -> InlineKeyboardMarkup:
    """Several cards match: which one to log a touch with (``note``: the typed note's)."""
    action = CardAction.NOTE_LOG if note else CardAction.LOG
    kb = InlineKeyboard()
    for c, title in zip(found, card_titles(found), strict=True):
        kb.button(text=title, callback_data=CardCb(action=action, id=c.id))
    kb.adjust(1)
    return kb.as_markup()


# PickCb(f=NOTE_PICK, v=NOTE_FIND): the note is about someone not offered — ask for the name;
# v=NOTE_NEW: about someone with no card yet — add one (the name typed, or asked), then log
NOTE_PICK = "nt"
NOTE_FIND = "find"
NOTE_NEW = "new"


def _new_card_button(kb: InlineKeyboard, name: str | None = None) -> None:
    text = _("➕ New card: {name}").format(name=name[:40]) if name else _("➕ New card")
    kb.button(text=text, callback_data=PickCb(f=NOTE_PICK, v=NOTE_NEW))


def note_offer(note: str, cards: list[Contact], *, named: bool) -> tuple[str, InlineKeyboardMarkup]:
    """A note typed outside any dialogue: log it as a touch, with one of ``cards`` (those it
    names, when ``named``, else the rep's latest — none for a rep with no cards yet), someone
    else, or (when it names no card) a new card."""
    shown, cut = excerpt(note, 300)
    lines = [_("📝 Log this as a touch?"), "<i>" + h(shown) + ("…" if cut else "") + "</i>", ""]
    if named:
        lines.append(_("With whom?"))
    elif cards:
        lines.append(_("With whom? Your latest cards:"))
    else:
        lines.append(_("With whom? Find their card, or add a new one:"))
    kb = InlineKeyboard()
    for c, title in zip(cards, card_titles(cards), strict=True):
        kb.button(text=title, callback_data=CardCb(action=CardAction.NOTE_LOG, id=c.id))
    kb.button(
        text=_("🔎 Someone else") if cards else _("🔎 Find a card"),
        callback_data=PickCb(f=NOTE_PICK, v=NOTE_FIND),
    )
    if not named:  # about someone with no card yet, maybe
        _new_card_button(kb)
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


def nothing_found(
    query: str, *, name: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """No card for the name typed at "Touch with whom?"; for a typed note (``name``: what the
    new card would be called), a button adds the card and logs the note on it."""
    text = _("Nothing found for “{query}”. Try another name, or /add the contact first.").format(
        query=h(query[:100])
    )
    if name is None:
        return text, None
    kb = InlineKeyboard()
    _new_card_button(kb, name)
    text = _("Nothing found for “{query}”. Try another name, or add the card:").format(
        query=h(query[:100])
    )
    return text, kb.as_markup()


async def tapped_note(
    query: CallbackQuery, state: FSMContext
) -> tuple[Message, dict[str, Any]] | None:
    """The typed note a button under its offer is about, and the offer's message (its keyboard
    dropped); None when the offer is not the latest (the tapper told: an older offer never
    acts on a newer note)."""
    if not isinstance(query.message, Message):
        await query.answer()
        return None
    note = (await state.get_data()).get("note") or {}
    if note.get("mid") != query.message.message_id:
        await query.answer(note_expired(), show_alert=True)
        return None
    await query.answer()
    await drop_keyboard(query.message)
    return query.message, note


def note_expired() -> str:
    return _("That offer is out of date: send the note again, or open the card and log the touch.")


def not_understood() -> str:
    return _(
        "I didn't understand that. Type a name to find a card, or what happened with a contact "
        "to log it as a touch. /help shows what I can do."
    )


def step_too_long(text: str) -> str:
    count = len(limits.clean("next_step", text))
    return ngettext(
        "This step has {count} character; a next step holds up to {limit}. Send a shorter one "
        "(the details fit in the touch's summary or the card's notes), or /cancel.",
        "This step has {count} characters; a next step holds up to {limit}. Send a shorter one "
        "(the details fit in the touch's summary or the card's notes), or /cancel.",
        count,
    ).format(count=count, limit=limits.limit_of("next_step"))


def summary_too_long(text: str) -> str:
    count = len(limits.clean("summary", text))
    return ngettext(
        "This summary has {count} character; a touch summary holds up to {limit}. Shorten it "
        "and send it again (or put the details in the card's notes), or /cancel.",
        "This summary has {count} characters; a touch summary holds up to {limit}. Shorten it "
        "and send it again (or put the details in the card's notes), or /cancel.",
        count,
    ).format(count=count, limit=limits.limit_of("summary"))


def kept_ahead(question: str | None = None) -> str:
    """What the rep sent before tapping the kind (``question`` None: it is asked again here) or
    the direction (``question``: the direction's, asked again) is kept for the touch."""
    if question is None:
        return _("Kept for the touch. What kind of touch was it?")
    return _("Kept for the touch.") + " " + question


async def answer_kept(message: Message, state: FSMContext, *, asked_kind: bool) -> None:
    """Say that what was sent ahead of the kind's or the direction's buttons is kept, and ask
    that question again."""
    data = await state.get_data()
    if asked_kind:
        await message.answer(kept_ahead(), reply_markup=type_keyboard(int(data["cid"])))
    else:
        text, markup = direction_question(data.get("type", "other"), int(data["cid"]))
        await message.answer(kept_ahead(text), reply_markup=markup)


async def tapped_value(
    query: CallbackQuery, callback_data: PickCb, state: FSMContext
) -> str | None:
    """A touch's or a next step's button value when it names the card asked about now; else
    None, and the tap is told it is out of date (it was under an older question, for another
    card)."""
    value, card = of_card(callback_data.v)
    if card != str((await state.get_data()).get("cid")):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return None
    await query.answer()
    return value


def which_one() -> str:
    """Above the cards matching a name given for a touch: a more precise one may be typed."""
    return _("Which one? Tap the card, or send a more precise name.")


def says_what_happened(text: str) -> bool:
    """Text typed under "Which one?" that found no card: what happened (more words than a name
    has, as a note typed on its own is told from a name), not a name mistyped."""
    return len(words(text)) > 3 and not is_small_talk(text)


async def which_card(
    target: Message,
    state: FSMContext,
    cards: list[Contact],
    query: str,
    note: str | None = None,
    *,
    kept: bool = False,
) -> None:
    """Several cards match ``query``: which one? (``note``: the typed note the touch is to
    have — picking a card logs it; typed under the list offered before, which it replaces:
    ``kept``, said so, and that list's buttons dropped)."""
    if kept and note and limits.too_long("summary", note):
        await target.answer(summary_too_long(note))  # the list above stays as it is
        return
    old = (await state.get_data()).get("which") or {}
    if kept and old.get("mid") and target.bot is not None:
        with suppress(TelegramBadRequest):  # gone or changed already: nothing to drop
            await target.bot.edit_message_reply_markup(
                chat_id=target.chat.id, message_id=old["mid"], reply_markup=None
            )
    text = (_("Kept for the touch.") + " " if kept else "") + which_one()
    sent = await target.answer(text, reply_markup=pick_for_log(cards, note=bool(note)))
    await state.update_data(which={"q": query[:200], "mid": sent.message_id})
    if note:
        await state.update_data(note={"mid": sent.message_id, "text": note})


def card_gone(name: str, typed: str = "", *, step: bool = False) -> str:
    """The card of the touch (``step``: of the next step) being logged is no longer the rep's —
    handed to someone else, merged or erased midway: nothing was saved, and what the rep
    typed is shown back, quoted (cut to fit one message), so that it is not lost."""
    if step:
        head = _(
            "⚠️ The next step with <b>{name}</b> was not saved: this card is no longer yours "
            "(it was handed to someone else, merged or erased)."
        )
    else:
        head = _(
            "⚠️ The touch with <b>{name}</b> was not saved: this card is no longer yours "
            "(it was handed to someone else, merged or erased)."
        )
    head = head.format(name=h(name or "…"))
    typed = typed.strip()
    if not typed:
        return head
    head += "\n\n" + _("Your text, so that it is not lost:")
    # the raw head bounds its shown length; a line break and "…" come with the words
    room, units, cut = TELEGRAM_LIMIT - utf16_len(head) - 2, 0, len(typed)
    for i, ch in enumerate(typed):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > room:
            cut = i
            break
    shown = typed[:cut] + ("…" if cut < len(typed) else "")
    return head + "\n<blockquote>" + h(shown) + "</blockquote>"


async def gone(target: Message, state: FSMContext, typed: str = "", *, step: bool = False) -> None:
    """The dialogue's card is no longer the rep's: the dialogue ends, and they are told so with
    what they typed (:func:`card_gone`)."""
    name = (await state.get_data()).get("cname") or ""
    await state.clear()
    await target.answer(card_gone(name, typed, step=step))
