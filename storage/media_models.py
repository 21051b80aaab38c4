"""Voice notes, photos and documents kept on a card (services.media): by Telegram file id, on a
touch or (a business card's photo) on the card itself. Declared on storage.base's Base;
storage.models imports this module, so every table is known wherever the models are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import UTCDateTime


class TouchMedia(Base):
    """A file a rep sent on a card's dialogue. Only Telegram's ids are kept: the bot sends it
    back by ``file_id``; the file itself stays on Telegram's side."""

    __tablename__ = "touch_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    touch_id: Mapped[int | None] = mapped_column(
        ForeignKey("touches.id", ondelete="CASCADE"), nullable=True
    )  # None: kept on the card itself (a business card's photo)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # voice | photo | document
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_touch_media_contact_time", "contact_id", "at"),
        Index("ix_touch_media_touch", "touch_id"),
    )
