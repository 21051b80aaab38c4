"""Dialogues kept over a restart: a process that keeps its dialogue state in memory (no Redis)
writes what is open to this table when it stops and reads it back when it starts again
(bot.dialogues). Declared on storage.base's Base; storage.models imports this module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import UTCDateTime


class KeptDialogue(Base):
    """One dialogue's state and data, by aiogram's storage key."""

    __tablename__ = "kept_dialogues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    business_connection_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    destiny: Mapped[str] = mapped_column(String(64))
    state: Mapped[str | None] = mapped_column(String(256), nullable=True)
    data: Mapped[str] = mapped_column(Text)  # JSON, as aiogram's RedisStorage keeps it
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime())
