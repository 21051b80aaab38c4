"""Capture everything the bot logs, as the bot's own logging set-up (bot.logs) shapes it."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bot import logs


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@dataclass
class Captured:
    stream: io.StringIO = field(default_factory=io.StringIO)
    records: list[logging.LogRecord] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What the bot's stderr handler wrote."""
        return self.stream.getvalue()

    def everything(self) -> str:
        """The handler's output and every attribute of every record, as text."""
        parts = [self.text]
        for record in self.records:
            parts.append(repr(vars(record)))
            parts.append(logging.Formatter().format(record))
        return "\n".join(parts)

    def lines(self, logger: str, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.name == logger and r.levelno == level]


@contextlib.contextmanager
def capture_logs(level: str = "DEBUG", secrets: Iterable[str | None] = ()) -> Iterator[Captured]:
    captured = Captured()
    keep = _Keep(captured.records)
    root = logging.getLogger()
    with logs.configured(level, secrets=secrets, stream=captured.stream):
        root.addHandler(keep)
        try:
            yield captured
        finally:
            root.removeHandler(keep)
