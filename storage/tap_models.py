"""Buttons that create something, remembered once per message (services.taps). Declared on
storage.base's Base; storage.models imports this module, so every table is known wherever the
models are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import UTCDateTime


class ButtonTap(Base):
    """A button that creates something, once per message (services.taps): the same button
    tapped twice, or twenty times at once, does its work once."""

    __tablename__ = "button_taps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", "data", name="uq_button_taps_chat_message_data"),
    )
