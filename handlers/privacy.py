"""/forget: a manager or an admin erases a contact's personal data; a client erases their own."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, ngettext
from bot.routing import FeatureRouter
from core.clock import Clock
from core.roles import LEADS, STAFF, Role
from services import contacts as svc
from services import privacy
from storage.models import Contact, User
from views.callbacks import ForgetCb
from views.keyboards import InlineKeyboard
from views.rendering import card_titles, edit_text, h


def _confirm(contact_id: int, yes: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    kb.button(text=yes, callback_data=ForgetCb(a="do", id=contact_id))
    kb.button(text=_("Cancel"), callback_data=ForgetCb(a="no", id=contact_id))
    kb.adjust(1)
    return kb.as_markup()


def _counts(found: privacy.Footprint) -> str:
    counted = (
        (found.touches, ngettext("{n} touch note", "{n} touch notes", found.touches)),
        (found.surveys, ngettext("{n} survey answer", "{n} survey answers", found.surveys)),
        (found.cases, ngettext("{n} NPS case", "{n} NPS cases", found.cases)),
        (
            found.referral_links,
            ngettext("{n} referral link", "{n} referral links", found.referral_links),
        ),
        (found.deals, ngettext("{n} deal title", "{n} deal titles", found.deals)),
    )
    parts = [text.format(n=n) for n, text in counted if n]
    # nothing written about them: nothing said ("…and the texts of no notes or answers")
    return _(", and the texts of {counts}").format(counts=", ".join(parts)) if parts else ""


def _deals_kept(found: privacy.Footprint) -> str:
    """What stays of the deals: their amounts and dates, which the pipeline figures count."""
    if not found.deals:
        return ""
    return "\n\n" + ngettext(
        "💼 {n} deal keeps only its amount and dates, for the pipeline figures.",
        "💼 {n} deals keep only their amounts and dates, for the pipeline figures.",
        found.deals,
    ).format(n=found.deals)


def card_preview(contact: Contact, found: privacy.Footprint) -> str:
    return _(
        "🗑 Forget <b>{name}</b>?\n\nThis erases their personal data for good: name, company, "
        "position, phone, e-mail, Telegram account, notes and tags{counts}. "
        "Survey links stop working and nothing more is planned for them.\n\nWhat the metrics "
        "count stays, without the person: that the card, its touches and its scores existed. "
        "The erasure is logged with your name."
    ).format(name=h(contact.name), counts=_counts(found)) + _deals_kept(found)


def self_preview(found: privacy.Footprint) -> str:
    cards = ngettext(
        "{n} contact card with your details", "{n} contact cards with your details", found.cards
    ).format(n=found.cards)
    return _(
        "I hold your Telegram name and username, {cards}{counts}.\n\n"
        "Delete all of it? Your survey scores stay only as anonymous numbers."
    ).format(cards=cards, counts=_counts(found))


def create_router() -> Router:
    router = FeatureRouter(name="privacy")

    @router.message(Command("forget"))
    async def forget(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        user: User | None,
        role: Role | None,
    ) -> None:
        if user is None:
            return
        if role not in STAFF:
            found = await privacy.person_footprint(session, user)
            await message.answer(
                self_preview(found), reply_markup=_confirm(0, _("🗑 Delete my data"))
            )
            return
        if role not in LEADS:
            await message.answer(
                _("Only a manager or an administrator can erase a contact's personal data.")
            )
            return
        query = (command.args or "").strip()
        if query.split(maxsplit=1)[:1] in (["-a"], ["—a"], ["–a"]):  # as /find -a: here always
            query = query[2:].strip()
        if not query:
            await message.answer(_("Whose data should be erased? /forget Name"))
            return
        # an archived card holds personal data as much as a live one: /forget finds both
        found = await svc.search(
            session, svc.Scope.of(user, role), query[:200], limit=6, archived=True
        )
        if not found:
            await message.answer(_("Nothing found for “{query}”.").format(query=h(query[:100])))
            return
        if len(found) > 1:
            kb = InlineKeyboard()
            for c, title in zip(found, card_titles(found), strict=True):
                kb.button(text=title, callback_data=ForgetCb(a="ask", id=c.id))
            kb.adjust(1)
            await message.answer(_("Which one?"), reply_markup=kb.as_markup())
            return
        contact = found[0]
        preview = await privacy.footprint(session, [contact.id])
        await message.answer(
            card_preview(contact, preview),
            reply_markup=_confirm(contact.id, _("🗑 Forget for good")),
        )

    @router.callback_query(ForgetCb.filter())
    async def forget_button(
        query: CallbackQuery,
        callback_data: ForgetCb,
        session: AsyncSession,
        user: User | None,
        role: Role | None,
        clock: Clock,
    ) -> None:
        if user is None or not isinstance(query.message, Message):
            await query.answer()
            return
        msg = query.message
        if callback_data.a == "no":
            await query.answer()
            await edit_text(msg, _("Cancelled. Nothing was erased."))
            return
        if callback_data.id == 0:  # oneself
            if callback_data.a != "do" or role in STAFF:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            await privacy.forget_me(session, user, now=clock.now())
            await query.answer()
            await edit_text(
                msg,
                _(
                    "Deleted. I no longer hold your details. If you write to me again, I will "
                    "only see what Telegram shows me."
                ),
            )
            return
        if role not in LEADS:
            await query.answer(_("Contact not found."), show_alert=True)
            return
        contact = await svc.get(session, svc.Scope.of(user, role), callback_data.id)
        if contact is None or contact.forgotten_at is not None:
            await query.answer(_("Contact not found."), show_alert=True)
            return
        if callback_data.a in ("ask", "card"):
            await query.answer()
            preview = await privacy.footprint(session, [contact.id])
            text = card_preview(contact, preview)
            markup = _confirm(contact.id, _("🗑 Forget for good"))
            if callback_data.a == "card":  # 🗑 Forget on a card: the card stays as it is
                await msg.answer(text, reply_markup=markup)
            else:
                await edit_text(msg, text, reply_markup=markup)
            return
        erased = await privacy.forget_card(session, contact, actor=user, now=clock.now())
        await query.answer()
        if erased is None:
            await edit_text(msg, _("This contact's data was already erased."))
            return
        await edit_text(
            msg,
            _("Erased: the contact is now card #{id}, with no personal data. Logged.").format(
                id=contact.id
            ),
        )

    return router
