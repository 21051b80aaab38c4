"""The project's own Telegram Bot API emulator (tests and `python -m bot sandbox`)."""

from bot.emulator.client import Reply, UserClient, plain
from bot.emulator.server import FakeTelegram, RateLimits

__all__ = ["FakeTelegram", "RateLimits", "Reply", "UserClient", "plain"]
