"""/export and /import: the user's contacts as CSV and vCard, both ways.

The handlers only read the request, call one use case of services.exchange and render its
answer: an import is staged first and shown as a preview (N new, M updates, K skipped) with
Import / Cancel; nothing is live until the uploader taps Import.
"""

from __future__ import annotations

import logging
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)

from bot.context import Ctx
from bot.filters import router_for, staff
from bot.i18n import _, ngettext
from core.enums import ENUM_FIELDS
from core.exchange import CSV_COLUMNS, SPREADSHEET_EXTENSIONS, file_kind
from services import exchange as svc
from views import media as media_views
from views.contacts import field_title
from views.keyboards import InlineKeyboard
from views.labels import label_codes
from views.rendering import drop_keyboard, edit_text, h, quoted

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
MESSAGE_BUDGET = 3800  # a preview stays one message (under Telegram's 4096), keyboard included
MAX_LISTED = 15  # skipped rows listed in a preview; the rest are counted


class ImportCb(CallbackData, prefix="imp"):
    """Import / Cancel under a preview; the import is re-checked to be the tapping user's."""

    a: str  # go | no
    id: int


# -------------------------------------------------------------------------------- wording


def _where(issue: svc.Issue) -> str:
    where = _("line {line}").format(line=issue.line)
    return f"{where} ({h(issue.name[:40])})" if issue.name else where


def _quoted(value: str | None) -> str:
    return quoted((value or "")[:80])


def _column(issue: svc.Issue) -> str:
    """The column as the file names it ("Этап"); a column named as /export names it ("name"),
    or a vCard's field, by its label in the user's language ("имя")."""
    if issue.column and issue.heading in (None, issue.column):
        return h(_label(issue.column)[:40])
    return h((issue.heading or "")[:40])


def _label(column: str) -> str:
    """A field as the card names it, in the user's language, in lower case as a word inside a
    sentence ("notes", "заметки"; "ICP fit" stays); a column the card does not name, as is."""
    if column == "next_step":
        return _("next step")
    if column == "next_step_due":
        return _("next step due")
    title = field_title(column)
    return title[:1].lower() + title[1:] if title[1:2].islower() else title


MAX_REASONS = 600  # a skipped row's reasons, in characters: the rest are counted


def _reasons(issue: svc.Issue) -> str:
    """Every reason a row was skipped (each bad value), "; "-separated, within MAX_REASONS."""
    said: list[str] = []
    every = (issue, *issue.also)
    for index, each in enumerate(every):
        reason = _reason(each)
        if said and sum(len(r) + 2 for r in said) + len(reason) > MAX_REASONS:
            said.append(_("…and {count} more").format(count=len(every) - index))
            break
        said.append(reason)
    return "; ".join(said)


def _reason(issue: svc.Issue) -> str:  # noqa: PLR0911 - one wording per reason
    code, value = issue.code, issue.value
    if code == "missing_name":
        return _("no name")
    if code == "invalid_value":
        return _("invalid {column}: {value}").format(column=_column(issue), value=_quoted(value))
    if code == "invalid_phone":
        return _("invalid phone {value}").format(value=_quoted(value))
    if code == "invalid_email":
        return _("invalid e-mail {value}").format(value=_quoted(value))
    if code == "invalid_username":
        return _("invalid Telegram username {value}").format(value=_quoted(value))
    if code == "invalid_date":
        return _("invalid date in {column}: {value}").format(
            column=_column(issue), value=_quoted(value)
        )
    if code in ("date_unreadable", "date_future"):
        return _dated(issue)
    if code == "too_many_tags":
        return _("too many tags")
    if code == "ambiguous":
        names = ", ".join(
            f"{h(name[:40])} (#{ref})"
            if ref > 0
            else _("the new card of line {line}").format(line=-ref)
            for name, ref in issue.matches
        )
        return _("matches several existing contacts: {names}").format(names=names)
    if code == "in_team":
        return _("already in the team: {card}, owned by {owner}").format(
            card=h(issue.detail[:40]), owner=h((value or "")[:40])
        )
    if code == "cut":
        limit = int(issue.detail) if str(issue.detail).isdigit() else 0
        return ngettext(
            "{column} longer than {limit} character: cut",
            "{column} longer than {limit} characters: cut",
            limit,
        ).format(column=_column(issue), limit=issue.detail)
    if code == "introduced_by_unknown":
        return _(
            "introduced_by {value}: no other row of this file imported with that name or e-mail; "
            "left out"
        ).format(value=_quoted(value))
    if code == "introduced_by_ambiguous":
        lines = ", ".join(
            _("{name} (line {line})").format(name=h(name[:40]), line=-ref)
            for name, ref in issue.matches
        )
        return _("introduced_by {value} matches several rows: {rows}; left out").format(
            value=_quoted(value), rows=lines
        )
    if code == "renamed":
        (old, ref), what = issue.matches[0], _key_name(issue.column)
        names = {"old": h(old[:40]), "new": h((issue.name or "")[:40])}
        if ref < 0:
            return _(
                "the same {what} as line {line}: taken as that contact, and “{old}” becomes “{new}”"
            ).format(what=what, line=-ref, **names)
        return _(
            "the same {what} as the card “{old}” (#{id}): taken as that contact, and “{old}” "
            "becomes “{new}”"
        ).format(what=what, id=ref, **names)
    if code == "same_name":
        (card, ref) = issue.matches[0]
        return _(
            "the same name and company as the card “{name}” (#{id}), and no phone or e-mail: "
            "taken as that contact"
        ).format(name=h(card[:40]), id=ref)
    if code == "created_kept":
        return _dated(issue)
    if code in ("merged", "more_values", "step_filled", "archived_kept"):
        return _merged_or_kept(issue)
    if code == "introduced_by_dropped":
        return _("introduced_by #{id} is not one of your contacts; left out").format(id=value)
    if code == "empty":
        return _("the file is empty")
    if code == "no_header":
        return _("no header row with a “name” column")
    if code == "unterminated":
        return _("the card has no END:VCARD")
    if code == "no_vcard":
        return _("no vCard found in the file")
    if code == "unclosed_quote":
        return _(
            'a quote (") opened in this row is never closed, so it would swallow the rest '
            "of the file"
        )
    if code == "bad_quote":
        if issue.detail:
            return _(
                "a value in quotes runs on to line {end} and is followed by more text: "
                "a quote is probably missing"
            ).format(end=h(issue.detail))
        return _("text follows a closing quote in the same cell")
    if code == "too_many_fields":
        found, _slash, width = issue.detail.partition("/")
        return _(
            "{found} fields, but the header has {width}: a comma or semicolon inside a value "
            "that is not in quotes?"
        ).format(found=h(found), width=h(width))
    if code == "swallowed_rows":
        return _(
            "a value in quotes runs over line(s) {lines}, which look like rows of their own: "
            "a quote is probably missing"
        ).format(lines=h(issue.detail.replace("-", "–")))
    return _("broken CSV, reading stopped here")


def _dated(issue: svc.Issue) -> str:
    """A date that says when something happened but was not taken (the row is imported all
    the same): in the future, unreadable, or the creation of a card that exists already."""
    names = {"column": _column(issue), "value": _quoted(issue.value)}
    if issue.code == "created_kept":
        return _(
            "{column} {value}: the contact exists already, so it keeps the day it was "
            "created, {day}"
        ).format(day=h(issue.detail), **names)
    if issue.code == "date_future":
        return _(
            "{column} {value} is in the future: the time of the import is taken instead"
        ).format(**names)
    return _(
        "{column} {value} is not a date I can read: the time of the import is taken instead"
    ).format(**names)


def _merged_or_kept(issue: svc.Issue) -> str:
    """A row imported with a value of its own left out or filled in: the same contact as an
    earlier row, a second phone, a due date without its step, a card kept in the archive."""
    if issue.code == "merged":
        line = -issue.matches[0][1]
        columns = [c for c in issue.detail.split(",") if c]
        if not columns:
            return _("the same contact as line {line}: merged into one card").format(line=line)
        return ngettext(
            "the same contact as line {line}: merged into one card; this row's value is kept "
            "for {columns}",
            "the same contact as line {line}: merged into one card; this row's values are kept "
            "for {columns}",
            len(columns),
        ).format(line=line, columns=", ".join(h(_label(c)) for c in columns))
    if issue.code == "more_values":
        values = _quoted(issue.value)
        if issue.column == "email":
            return _(
                "several e-mails: one is kept on the card, the others are left out: {values}"
            ).format(values=values)
        return _(
            "several phones: one is kept on the card, the others are left out: {values}"
        ).format(values=values)
    if issue.code == "step_filled":
        return _(
            "{column} {value} comes without a next step: the step is set to “{step}” "
            "(change it on the card)"
        ).format(column=_column(issue), value=_quoted(issue.value), step=h(issue.detail[:80]))
    return _(
        "stays in the archive: the team's card {card}, owned by {owner}, has the same phone, "
        "e-mail or Telegram id"
    ).format(card=h(issue.detail[:40]), owner=h((issue.value or "")[:40]))


def _key_name(column: str | None) -> str:
    return {"email": _("e-mail"), "tg_user_id": _("Telegram id")}.get(column or "", _("phone"))


def _bullets(issues: list[svc.Issue], total: int, budget: int) -> list[str]:
    """As many "• line N (name): reason" lines as fit the budget, then "…and K more"."""
    lines: list[str] = []
    used = 0
    for issue in issues[:MAX_LISTED]:
        line = f"• {_where(issue)}: {_reasons(issue)}"
        if used + len(line) + 1 > budget:
            break
        lines.append(line)
        used += len(line) + 1
    if total > len(lines):
        lines.append(_("…and {count} more").format(count=total - len(lines)))
    return lines


def _head(title: str, result: svc.Preview | svc.Outcome, more: str | None) -> list[str]:
    """The first lines of a preview or of an outcome: its title, the cards new, updated and
    skipped, and one more line when there is something more to say."""
    counts = ", ".join(
        (
            ngettext("{count} new", "{count} new", result.creates).format(count=result.creates),
            ngettext("{count} update", "{count} updates", result.updates).format(
                count=result.updates
            ),
            ngettext("{count} skipped", "{count} skipped", result.skipped).format(
                count=result.skipped
            ),
        )
    )
    return [title, counts] if more is None else [title, counts, more]


def _preview_text(preview: svc.Preview) -> str:
    file = h(preview.filename[:100])
    if preview.refused == "history":
        return _(
            "“{file}” is the history of touches that /export sends: it cannot be imported. "
            "Send contacts.csv or contacts.vcf from the same export."
        ).format(file=file)
    if preview.refused is not None:
        return _(
            "“{file}” is not a readable CSV: it is not a text file. Save the table as CSV "
            "(UTF-8) and send that file."
        ).format(file=file)
    if preview.broken:
        head = [
            _(
                "<b>The file is broken, so nothing was imported</b> (“{file}”). "
                "Fix it and send it again:"
            ).format(file=file)
        ]
        return "\n".join(head + _bullets(preview.broken, len(preview.broken), MESSAGE_BUDGET))
    if preview.too_many:
        return ngettext(
            "“{file}” has more than {count} row, so nothing was imported. Split it and send "
            "the parts.",
            "“{file}” has more than {count} rows, so nothing was imported. Split it and send "
            "the parts.",
            preview.too_many,
        ).format(file=file, count=preview.too_many)
    if preview.import_id is None and not preview.unchanged:
        head = [_("Nothing to import from “{file}”.").format(file=file)]
        return "\n".join(head + _bullets(preview.issues, preview.skipped, MESSAGE_BUDGET))
    if preview.import_id is None:
        lines = [
            ngettext(
                "Nothing to change: {count} row of “{file}” already matches your contacts.",
                "Nothing to change: {count} rows of “{file}” already match your contacts.",
                preview.unchanged,
            ).format(count=preview.unchanged, file=file)
        ]
    else:
        unchanged = ngettext(
            "{count} more row already matches its card: nothing to change there.",
            "{count} more rows already match their cards: nothing to change there.",
            preview.unchanged,
        ).format(count=preview.unchanged)
        title = _("<b>Ready to import</b> “{file}”").format(file=file)
        lines = _head(title, preview, unchanged if preview.unchanged else None)
    budget = MESSAGE_BUDGET - sum(len(line) + 1 for line in lines) - 200
    if preview.issues:
        lines += ["", _("<b>Skipped rows</b>")]
        listed = _bullets(preview.issues, preview.skipped, budget * 2 // 3)
        budget -= sum(len(line) + 1 for line in listed)
        lines += listed
    if preview.cut:
        lines.append(cut_summary(preview.cut))
    if preview.notes:
        lines += ["", _("<b>Notes</b>")]
        lines += _bullets(preview.notes, len(preview.notes), max(budget, 200))
    if preview.import_id is not None:
        lines += ["", _("Nothing is written until you tap Import.")]
    return "\n".join(lines)


def cut_summary(count: int) -> str:
    return ngettext(
        "✂️ {count} value was longer than its field allows and was cut (see the notes).",
        "✂️ {count} values were longer than their fields allow and were cut (see the notes).",
        count,
    ).format(count=count)


def _buttons(import_id: int, *, cancel: bool = True) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    kb.button(text=_("✅ Import"), callback_data=ImportCb(a="go", id=import_id))
    if cancel:
        kb.button(text=_("Cancel"), callback_data=ImportCb(a="no", id=import_id))
    return kb.as_markup()


def _result_text(outcome: svc.Outcome) -> str:
    reminders = ngettext(
        "⏰ {count} reminder planned for the imported next steps.",
        "⏰ {count} reminders planned for the imported next steps.",
        outcome.reminders,
    ).format(count=outcome.reminders)
    title = _("<b>Imported</b> “{file}”").format(file=h(outcome.filename[:100]))
    return "\n".join(_head(title, outcome, reminders if outcome.reminders else None))


def _replaced() -> str:
    return _(
        "This preview was replaced by the newer file you sent, so nothing was imported from "
        "it. Use the newest preview."
    )


def _failed() -> str:
    return _(
        "The import failed, so nothing was imported and your contacts are as they were. "
        "Please try again in a minute."
    )


# ----------------------------------------------------------------------------------- router


def _timezone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _too_large() -> str:
    return _("The file is too large (over {size} MB). Split it and send the parts.").format(
        size=MAX_FILE_BYTES // (1024 * 1024)
    )


def create_router() -> Router:
    router = router_for("exchange", staff())

    @router.message(Command("export"))
    async def export(message: Message, ctx: Ctx) -> None:
        files = await svc.export(ctx.session, ctx.viewer.scope)
        if files is None:
            await message.answer(_("You have no contacts to export yet. /add creates one."))
            return
        csv_caption = ngettext(
            "{count} contact as CSV (UTF-8). Edit it in a spreadsheet and send it back: "
            "/import explains how.",
            "{count} contacts as CSV (UTF-8). Edit it in a spreadsheet and send it back: "
            "/import explains how.",
            files.count,
        )
        vcard_caption = ngettext(
            "{count} contact as vCard, for a phone or a mail app.",
            "{count} contacts as vCard, for a phone or a mail app.",
            files.count,
        )
        history_caption = ngettext(
            "Their history: {count} entry (touches, changes, NPS answers), oldest first.",
            "Their history: {count} entries (touches, changes, NPS answers), oldest first.",
            files.events,
        )
        for content, filename, caption, count in (
            (files.csv, "contacts.csv", csv_caption, files.count),
            (files.vcard, "contacts.vcf", vcard_caption, files.count),
            (files.history, "history.csv", history_caption, files.events),
        ):
            await message.answer_document(
                BufferedInputFile(content, filename=filename), caption=caption.format(count=count)
            )

    @router.message(Command("import"))
    async def import_help(message: Message) -> None:
        await message.answer(
            _(
                "<b>Import contacts</b>\n"
                "Send a .csv or .vcf file as a document (up to 5 MB).\n\n"
                "CSV: the first row holds the column names, the same as in /export: {columns}. "
                "Only “name” is required; unknown columns are ignored; empty cells change "
                "nothing.\n\n"
                "A row with the id of one of your contacts, or with the same phone, e-mail or "
                "Telegram id, updates that contact; any other row creates a new one. "
                "First you see what will change and which rows are skipped; nothing is "
                "written until you tap Import, and then all of it or nothing."
            ).format(columns=h(", ".join(CSV_COLUMNS)))
            + "\n\n"
            + _(
                "Other headings are understood too: Russian ones (Имя, Фамилия, Компания, "
                "Должность, Телефон, Почта…) and the contacts exported from Google or Outlook. "
                "Source, status, stage and the other choices may be written as words, in "
                "either language (“event”, “мероприятие”, “лид”)."
            )
            + "\n\n"
            + _(
                "“introduced_by”: the id of one of your contacts, or the name or e-mail of "
                "another row of the same file, so a whole network comes in at once."
            )
            + "\n\n"
            + _(
                "Dates as 2026-09-01, 01.09.2026 or 2026-09-01 10:00 (in your time zone unless "
                "the date gives one). “created_at” (“Создан”, “Дата создания”) is when the "
                "contact was added: a new card keeps it, so /stats counts it in its own period."
            )
        )

    @router.message(F.document)
    async def import_file(message: Message, ctx: Ctx, bot: Bot) -> None:
        document = message.document
        assert document is not None
        filename = document.file_name or "file"
        kind = file_kind(document.file_name, document.mime_type)
        if kind is None:
            if filename.lower().endswith(SPREADSHEET_EXTENSIONS):
                await message.answer(
                    _(
                        "I can't read spreadsheet files. Save it as CSV (UTF-8) and send "
                        "the .csv file. /import explains the columns."
                    )
                )
            else:
                await message.answer(media_views.not_importable(filename))
            return
        if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
            await message.answer(_too_large())
            return
        buffer = await bot.download(document)
        data = buffer.read() if buffer is not None else b""
        if len(data) > MAX_FILE_BYTES:
            await message.answer(_too_large())
            return
        try:
            preview = await svc.stage(
                ctx.session,
                user=ctx.user,
                role=ctx.viewer.role,
                data=data,
                kind=kind,
                filename=filename,
                region=ctx.settings.default_phone_region,
                tz=_timezone(ctx.viewer.tz),
                now=ctx.now(),
                labels=label_codes(ENUM_FIELDS),
                step_text=_("Follow up"),
            )
        except svc.ImportFailed:
            await message.answer(_failed())
            return
        markup = _buttons(preview.import_id) if preview.import_id is not None else None
        await message.answer(_preview_text(preview), reply_markup=markup)

    @router.callback_query(ImportCb.filter())
    async def on_button(query: CallbackQuery, callback_data: ImportCb, ctx: Ctx) -> None:
        msg = query.message if isinstance(query.message, Message) else None
        if callback_data.a == "no":
            outcome = await svc.cancel(
                ctx.session, import_id=callback_data.id, user=ctx.user, now=ctx.now()
            )
            if outcome.status == "not_found":
                await query.answer(_("Import not found."), show_alert=True)
                return
            await query.answer()
            if outcome.status == svc.CANCELLED and msg is not None:
                await edit_text(msg, _("Import cancelled: nothing was written."))
            elif outcome.status == svc.REPLACED and msg is not None:
                await edit_text(msg, _replaced())
            return
        await query.answer()  # the spinner stops now; a big import may take a while
        try:
            outcome = await svc.apply(
                ctx.session,
                import_id=callback_data.id,
                user=ctx.user,
                role=ctx.viewer.role,
                now=ctx.now(),
                default_tz=ctx.settings.default_timezone,
            )
        except svc.ImportFailed:
            if msg is not None:
                await msg.answer(_failed())
            return
        status = outcome.status
        if status == "not_found":
            if msg is not None:
                await msg.answer(_("Import not found."))
            return
        if msg is None or status == svc.DONE:
            return  # a second tap: the first one did the work
        if status == svc.APPLIED:
            await edit_text(msg, _result_text(outcome))
        elif status == "reminders_pending":
            await edit_text(
                msg,
                _result_text(outcome)
                + "\n"
                + _("Some reminders are not planned yet: tap Import again to finish."),
                reply_markup=_buttons(callback_data.id, cancel=False),
            )
        elif status == svc.REPLACED:
            await edit_text(msg, _replaced())
        elif status == svc.CANCELLED:
            await drop_keyboard(msg)
        elif status == svc.EXPIRED:
            await edit_text(
                msg, _("This preview has expired, so nothing was imported. Send the file again.")
            )
        elif status == svc.STALE:
            await edit_text(
                msg,
                _(
                    "Your contacts changed after this preview, so nothing was imported. "
                    "Send the file again to see a fresh preview."
                ),
            )

    return router
