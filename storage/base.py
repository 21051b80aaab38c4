"""The declarative base every table is declared on (storage.models, storage.network_models),
with the constraint naming convention the migrations rely on."""

from __future__ import annotations

from sqlalchemy import Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# the rollup tables' options: clustered by their key on SQLite (WITHOUT ROWID, migration 0018)
CLUSTERED = {"sqlite_with_rowid": False}


class HourRollup:
    """The key an hourly rollup starts with — team (0: none), UTC hour ('YYYY-MM-DD HH'), owner —
    and its count ``n`` last; a table adds the rest of its key between them."""

    team_key: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-3)
    hour: Mapped[str] = mapped_column(String(13), primary_key=True, sort_order=-2)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    n: Mapped[int] = mapped_column(Integer, default=0, sort_order=1)
