"""The rollups of migration 0015 (services.rollup_marks, services.rollup_replies): per-card
marks and first replies, and their per-day counts. Declared on storage.base's Base;
storage.models imports this module, so every table is known wherever the models are."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import CLUSTERED, Base, HourRollup
from storage.types import UTCDateTime


class RollupMark(Base):
    """A card's moments that conversion, referral share and retention count (services.
    rollup_marks: the kinds and what ``at`` and ``aux`` mean), under the card's current owner
    and team; recomputed for the card by triggers whenever the card, its status history or its
    touches change (migration 0015)."""

    __tablename__ = "rollup_marks"

    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_key: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    aux: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_rollup_marks_team_at", "kind", "team_key", "at"),
        Index("ix_rollup_marks_owner_at", "kind", "owner_id", "at"),
        Index("ix_rollup_marks_at", "kind", "at"),
        Index("ix_rollup_marks_aux", "kind", "aux"),
    )


class RollupMarkDays(Base):
    """``rollup_marks`` counted per kind, team (``team_key`` 0: none), owner and UTC day of
    ``at``, kept by the same triggers."""

    __tablename__ = "rollup_mark_days"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    team_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_rollup_mark_days_owner", "kind", "owner_id", "day"),
        CLUSTERED,
    )


class RollupReply(Base):
    """Every inbound touch with its first reply (services.rollup_replies): the first outbound
    touch with the same card at or after it, the delay in seconds and its band (-1: none yet),
    under the card's current owner and team; kept by triggers (migration 0015)."""

    __tablename__ = "rollup_replies"

    touch_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(Integer)
    team_key: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delay: Mapped[int | None] = mapped_column(Integer, nullable=True)
    band: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_rollup_replies_contact", "contact_id", "at"),
        Index("ix_rollup_replies_team", "team_key", "at"),
        Index("ix_rollup_replies_owner", "owner_id", "at"),
        Index("ix_rollup_replies_at", "at"),
        Index("ix_rollup_replies_team_band", "team_key", "band", "at"),
        Index("ix_rollup_replies_owner_band", "owner_id", "band", "at"),
        Index("ix_rollup_replies_at_band", "band", "at"),
        Index("ix_rollup_replies_reply_at", "reply_at"),
    )


class RollupReplyDays(Base):
    """``rollup_replies`` counted per team, owner, UTC day of the request and delay band."""

    __tablename__ = "rollup_reply_days"

    team_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_rollup_reply_days_owner", "owner_id", "day"),
        Index("ix_rollup_reply_days_day", "day"),  # everyone's
        CLUSTERED,
    )


class RollupMoveHours(HourRollup, Base):
    """Stage and status events counted per UTC hour ('YYYY-MM-DD HH'), field and new value
    ('' for none), under their card's current owner and team (``team_key`` 0: none); kept by
    triggers on contact_events and contacts (migration 0019, services.rollup_moves)."""

    __tablename__ = "rollup_move_hours"

    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(512), primary_key=True)

    __table_args__ = (
        Index("ix_rollup_move_hours_owner", "owner_id", "hour"),
        Index("ix_rollup_move_hours_hour", "hour"),  # everyone's
        CLUSTERED,
    )
