"""📝 Log reply on a client's message after the reply was sent with ↩️ Reply (and logged as a
touch) opened the touch log again and logged the same reply a second time; tapped twice, it said
"✋ The touch with … was not saved … Given so far: outbound" — the direction the bot had set, not
anything the rep gave. Now a reply already on the card is said ("Already logged"), a second tap
while the log is open says so, and a preset direction is not "given"."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from bot.emulator.client import buttons_of
from storage.models import Contact, Touch
from tests.helpers import team_with_rep

CLIENT = 9044


async def rep_and_client(tg):
    *_, rep = await team_with_rep(tg)
    client = tg.user(CLIENT, "Ann")
    await client.send("/start")
    await rep.share_contact("+79995550044", "Ann", "Client", user_id=client.id)
    return rep, client


async def client_wrote(tg, rep, client, text: str) -> dict:
    """The client's message and the rep's alert about it (kept as it was, buttons and all)."""
    await client.send(text)
    await tg.app.clockwork.tick()
    alert = rep.last_with_buttons()
    assert "wrote to me" in alert["text"]
    return copy.deepcopy(alert)


async def outbound(tg) -> int:
    async with tg.app.session_factory() as s:
        return await s.scalar(select(func.count(Touch.id)).where(Touch.direction == "out"))


def log_reply_data(alert: dict) -> str:
    [button] = [b for b in buttons_of(alert) if b["text"] == "📝 Log reply"]
    return button["callback_data"]


async def test_log_reply_after_a_sent_reply_logs_nothing_again(tg) -> None:
    rep, client = await rep_and_client(tg)
    alert = await client_wrote(tg, rep, client, "hi there")
    await rep.click("↩️", alert)
    reply = await rep.send("hello Ann")
    assert "✅ Sent to Ann Client and logged as a touch" in reply.text
    await rep.send("/cancel")  # no next step
    assert await outbound(tg) == 1
    reply = await rep.click("📝 Log reply", alert)
    assert reply.answer["text"].startswith("Already logged: the reply of ")
    assert reply.messages == [] and await outbound(tg) == 1
    # an alert sent before the button named the message (t=0): the card's last one is taken
    contact_id = log_reply_data(alert).split(":")[2]
    reply = await rep.tap_data(f"rm:lrep:{contact_id}:0", alert)
    assert reply.answer["text"].startswith("Already logged")
    assert reply.messages == [] and await outbound(tg) == 1
    # the client writes again: that message waits for its reply, its button logs it
    later = await client_wrote(tg, rep, client, "and one more thing")
    reply = await rep.click("📝 Log reply", later)
    assert "What kind?" in reply.text


async def test_a_second_tap_while_the_log_is_open_says_it_is_open(tg) -> None:
    rep, client = await rep_and_client(tg)
    alert = await client_wrote(tg, rep, client, "hi there")
    reply = await rep.click("📝 Log reply", alert)
    assert "What kind?" in reply.text
    reply = await rep.click("📝 Log reply", alert)
    assert reply.answer["text"] == "Already open: answer the question below."
    assert "not saved" not in reply.text and "Given so far" not in reply.text
    await rep.click("call")
    await rep.send("Called back")
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch).where(Touch.direction == "out"))
        ann = await s.get(Contact, touch.contact_id)
    assert (touch.type, touch.summary, ann.name) == ("call", "Called back", "Ann Client")
    assert await outbound(tg) == 1


async def test_a_preset_direction_is_not_given_so_far(tg) -> None:
    """The log left by another flow's button (↩️ Reply) before the rep gave anything: nothing
    was lost, nothing is said."""
    rep, client = await rep_and_client(tg)
    alert = await client_wrote(tg, rep, client, "hi there")
    await rep.click("📝 Log reply", alert)
    reply = await rep.click("↩️", alert)
    assert "not saved" not in reply.text and "outbound" not in reply.text
    assert "Write your reply to Ann Client" in reply.text
    # once the rep gave something, the note names it, and only it
    await rep.click("📝 Log reply", alert)
    await rep.click("call")
    reply = await rep.click("↩️", alert)
    assert "was not saved" in reply.text
    assert "Given so far: call" in reply.text and "outbound" not in reply.text
