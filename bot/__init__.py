"""The bot's process: entry points, wiring, start-up. Importing it first makes aiogram build its
Telegram types when they are first used (see :mod:`bot.lazy_types`)."""

from bot.lazy_types import install as _lazy_types

_lazy_types()
