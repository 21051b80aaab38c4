"""Logging for the bot: one stderr handler, and no secret in any record, at any level.

What is secret: the bot token, and every live deep-link token (invites, NPS surveys, referral
links: whoever holds one joins a team, answers a survey or becomes someone's referral).

How no record can carry one, in layers, each enough for the cases it names:

1. **Shapes.** A deep-link token only ever travels in two forms: the link the bot sends,
   ``https://t.me/<bot>?start=<token>``, and what Telegram delivers when someone opens it, the
   message ``/start <token>``; referral tokens also begin with ``ref_``. Every ``start=<…>``
   (also percent-encoded, ``start%3D<…>``), every ``/start <…>`` (also JSON-escaped, ``\\/start``)
   and every ``ref_<…>`` is redacted wherever it appears in a record. This needs no knowledge of
   the token, so it also holds for tokens made by an earlier run, by another replica, or forged.
2. **Values.** Every token this process creates or reads through the ORM is remembered: the
   ``token`` attribute of every mapped class that has one (found by looking at the mappers, so a
   new kind of link is covered without touching this file) reports each value set on it and each
   row loaded or refreshed. A bare value is then redacted wherever it appears, even inside a longer
   word (``log.info("survey %s", survey.token)``, an exception message, a repr). The code reads
   tokens only as entities (``select(Invite)``); a column-only read (``select(Invite.token)``)
   would bypass the ORM's events, so keep it that way (layer 1 still covers any link made of it).
3. **The bot token** is registered at start-up; its secret half (after the colon) is replaced
   wherever it appears, so the full token, the API URL ``…/bot<id>:<secret>/getMe`` and the
   percent-encoded form ``<id>%3A<secret>`` all lose it, and the bot id stays readable.
4. **Where:** at record creation (a log record factory), before any handler, filter or formatter
   sees the record: the message is rendered with its arguments and redacted (``args`` dropped),
   the exception and stack text are formatted and redacted (``exc_info`` dropped, so no handler
   can format the raw exception again). Our stderr formatter redacts the final line once more;
   uncaught exceptions in threads, unraisable exceptions and warnings go through logging too.
5. **Libraries that log data, not events,** are held above DEBUG whatever ``LOG_LEVEL`` says:
   aiosqlite logs every statement with its parameters at DEBUG, SQLAlchemy logs result rows at
   DEBUG (its engines also run with ``hide_parameters=True``, storage.db). Neither is ever useful
   in the bot's log, and both carry tokens and contact data.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

MARK = "[redacted]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Loggers whose DEBUG output is data (SQL parameters, rows), held at these levels always.
QUIET_LOGGERS = {"aiosqlite": logging.INFO, "sqlalchemy": logging.WARNING}

_TOKEN_CHARS = r"[A-Za-z0-9_-]"
_SHAPES = re.compile(
    # the link the bot sends (also start%3D… inside an encoded URL)
    rf"(?P<link>start(?:group|app)?(?:=|%3[dD])){_TOKEN_CHARS}+"
    # what Telegram delivers when it is opened (also \/start in Telegram's JSON)
    rf"|(?P<cmd>\\?/start(?:@\w+)?\s+){_TOKEN_CHARS}+"
    # a referral token, wherever it stands
    rf"|(?P<ref>ref_){_TOKEN_CHARS}+"
)
_MIN_TOKEN = 8  # shorter registered values are not tokens (new_token makes 20+ characters)


class Redactor:
    """Replaces secrets in text: by shape, by registered value and by the bot token's secret."""

    def __init__(self) -> None:
        self._literals: tuple[str, ...] = ()
        self._tokens: set[str] = set()
        self._lengths: tuple[int, ...] = ()
        self._runs: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add_secret(self, value: str | None) -> None:
        """A secret replaced as a substring wherever it appears: the bot token (its secret half,
        which also covers its URL and percent-encoded forms)."""
        if not value or not value.strip():
            return
        value = value.strip()
        secret = value.split(":", 1)[1] if ":" in value else value
        with self._lock:
            if secret and secret not in self._literals:
                # longest first, so a secret that contains another one goes whole
                self._literals = tuple(sorted({*self._literals, secret}, key=len, reverse=True))

    def add_token(self, value: object) -> None:
        """A live deep-link token (invite, survey, referral)."""
        if not isinstance(value, str) or len(value) < _MIN_TOKEN:
            return
        if value in self._tokens:
            return
        with self._lock:
            self._tokens.add(value)
            if len(value) not in self._lengths:
                self._lengths = tuple(sorted({*self._lengths, len(value)}))
                self._runs = re.compile(rf"{_TOKEN_CHARS}{{{self._lengths[0]},}}")

    def redact(self, text: str) -> str:
        for secret in self._literals:
            if secret in text:
                text = text.replace(secret, MARK)
        text = _SHAPES.sub(_shape_mark, text)
        runs = self._runs
        if runs is not None:
            text = runs.sub(self._run_mark, text)
        return text

    def _run_mark(self, match: re.Match[str]) -> str:
        run = match.group()
        tokens = self._tokens
        if run in tokens:
            return MARK
        out: list[str] = []
        i = start = 0
        lengths = self._lengths
        while i < len(run):
            for k in lengths:
                if run[i : i + k] in tokens:
                    out.append(run[start:i] + MARK)
                    i += k
                    start = i
                    break
            else:
                i += 1
        if not out:
            return run
        out.append(run[start:])
        return "".join(out)


def _shape_mark(match: re.Match[str]) -> str:
    for group in ("link", "cmd", "ref"):
        prefix = match.group(group)
        if prefix is not None:
            return prefix + MARK
    return MARK  # pragma: no cover - one of the groups always matches


REDACTOR = Redactor()
"""The process-wide redactor used by the log record factory and by :func:`one_line`."""


def redact(text: str) -> str:
    return REDACTOR.redact(text)


def one_line(exc: BaseException) -> str:
    """``Class: first line of the message``, redacted: for people, instead of a traceback."""
    message = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
    return redact(text)


# ---------------------------------------------------------------------- records


_exception_formatter = logging.Formatter()


def redact_record(record: logging.LogRecord, redactor: Redactor = REDACTOR) -> None:
    """Render and redact everything a handler could print; nothing raw is left on the record."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not print its raw arguments
        message = f"{record.msg!s} [unformattable log arguments dropped]"
    record.msg = redactor.redact(message)
    record.args = None
    if record.exc_info:
        text = record.exc_text or _exception_formatter.formatException(record.exc_info)
        record.exc_text = redactor.redact(text)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redactor.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor.redact(record.stack_info)


class RedactingFormatter(logging.Formatter):
    """The stderr format, redacted once more as a whole (covers anything a format adds)."""

    def __init__(self, fmt: str = FORMAT, redactor: Redactor = REDACTOR) -> None:
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(super().format(record))


current_update_id: ContextVar[int | None] = ContextVar("current_update_id", default=None)
"""The update being handled in this task (set by bot.dedup for every update)."""
current_due_work_id: ContextVar[int | None] = ContextVar("current_due_work_id", default=None)
"""The due-work row being delivered in this task (set by scheduler.delivery)."""


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object a line, with the update id and the due-work id of the
    task that logged, when there is one. Redacted like the text format: the record was redacted
    at creation, and the finished line is redacted once more."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is None:
            update_id = current_update_id.get()
        if update_id is not None:
            out["update_id"] = update_id
        due = getattr(record, "due_work_id", None)
        if due is None:
            due = current_due_work_id.get()
        if due is not None:
            out["due_work_id"] = due
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return self.redactor.redact(json.dumps(out, ensure_ascii=False, default=str))


class _RedactingFactory:
    def __init__(self, inner: Any, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        redact_record(record, self.redactor)
        return record


# ---------------------------------------------------------------------- tokens from the ORM


_watched = False


def watch_tokens(redactor: Redactor = REDACTOR) -> None:
    """Register every token the ORM creates, assigns or loads (once per process)."""
    global _watched
    if _watched:
        return
    from sqlalchemy import event

    from storage.models import Base

    def on_set(_target: object, value: object, _old: object, _initiator: object) -> object:
        redactor.add_token(value)
        return value

    def on_load(target: object, *_args: object) -> None:
        redactor.add_token(target.__dict__.get("token"))

    for mapper in Base.registry.mappers:
        if "token" not in mapper.columns:
            continue
        cls = mapper.class_
        event.listen(cls.token, "set", on_set, retval=True)
        event.listen(cls, "load", on_load)
        event.listen(cls, "refresh", on_load)
    _watched = True


# ---------------------------------------------------------------------- set-up


@contextlib.contextmanager
def redacting(secrets: Iterable[str | None] = (), redactor: Redactor = REDACTOR) -> Iterator[None]:
    """Every log record made inside is redacted at creation (see the module docstring)."""
    for secret in secrets:
        redactor.add_secret(secret)
    watch_tokens(redactor)
    old_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_RedactingFactory(old_factory, redactor))
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, level))
    hooks = (sys.excepthook, threading.excepthook, sys.unraisablehook)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook
    warnings_captured = getattr(logging, "_warnings_showwarning", None) is not None
    logging.captureWarnings(True)
    try:
        yield
    finally:
        logging.captureWarnings(warnings_captured)
        sys.excepthook, threading.excepthook, sys.unraisablehook = hooks
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
        logging.setLogRecordFactory(old_factory)


@contextlib.contextmanager
def configured(
    level: str | int,
    *,
    secrets: Iterable[str | None] = (),
    stream: Any = None,
    fmt: str = "text",
) -> Iterator[logging.Handler]:
    """The bot's logging: redaction (:func:`redacting`) and one handler on stderr at ``level``;
    ``fmt="json"`` writes JSON lines (:class:`JsonFormatter`) instead of text.

    Everything is put back on exit, so the entry points can be called in-process (tests).
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else RedactingFormatter())
    old_level = root.level
    with redacting(secrets):
        root.addHandler(handler)
        root.setLevel(level)
        try:
            yield handler
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)


_log = logging.getLogger("bot")


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    _log.critical("uncaught %s", one_line(exc), exc_info=(exc_type, exc, tb))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    _log.error(
        "uncaught in thread %s: %s",
        name,
        one_line(exc),
        exc_info=(args.exc_type, exc, args.exc_traceback),
    )


def _unraisablehook(unraisable: Any) -> None:
    exc = unraisable.exc_value
    what = unraisable.err_msg or "Exception ignored in"
    _log.error(
        "%s %r: %s",
        what,
        unraisable.object,
        one_line(exc) if exc is not None else "",
        exc_info=(unraisable.exc_type, exc, unraisable.exc_traceback) if exc else None,
    )
