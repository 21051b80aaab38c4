"""Deals (services.deals): an amount in a currency, an expected close date, open → won | lost.
Declared on storage.base's Base; storage.models imports this module, so every table is known
wherever the models are."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.deals import DealStatus
from storage.base import Base
from storage.types import UTCDateTime


class Deal(Base):
    """A deal with a contact. ``amount`` is in the currency's minor units (kopecks, cents);
    sums are per currency, never across. Its team is the contact's."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(256), default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    close_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # expected close (local)
    status: Mapped[str] = mapped_column(String(8), default=DealStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_deals_contact_status", "contact_id", "status"),
        Index("ix_deals_status_closed", "status", "closed_at"),  # won in a period
    )
