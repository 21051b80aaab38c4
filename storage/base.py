"""The declarative base every table is declared on (storage.models, storage.network_models),
with the constraint naming convention the migrations rely on."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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
