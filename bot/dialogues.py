"""Dialogues kept over a restart, for a bot that keeps them in memory (no Redis).

aiogram's MemoryStorage loses every dialogue in progress when the process stops: after a deploy
a rep half-way through /add or asked for a touch's next step sent "Acme" or "send the proposal"
and was told "I didn't get that". :class:`KeptMemoryStorage` is that storage plus two steps:
``keep`` writes the open dialogues to ``kept_dialogues`` when the app closes (after the updates
in flight have finished), ``restore`` reads them back and deletes them when it starts. A process
that is killed keeps nothing (the dialogues since its start are lost, as before); with Redis
(several replicas) the dialogues live there and this is not used.

The data is stored as JSON, as RedisStorage keeps it, so a value the bot could not keep in Redis
is not kept here either: such a dialogue is left out (counted in the log line, never shown).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, MemoryStorageRecord
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.dialogue_models import KeptDialogue
from storage.uow import write_session

log = logging.getLogger(__name__)
# aiogram's StorageKey, field by field: the table's columns of the same names
KEY_FIELDS = ("bot_id", "chat_id", "user_id", "thread_id", "business_connection_id", "destiny")


class KeptMemoryStorage(MemoryStorage):
    """MemoryStorage whose open dialogues outlive a graceful restart."""

    async def keep(self, factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
        """Write every open dialogue (a state or data) to the database; returns how many."""
        rows: list[KeptDialogue] = []
        left_out = 0
        for key, record in self.storage.items():
            if record.state is None and not record.data:
                continue
            try:
                data = json.dumps(record.data)
            except (TypeError, ValueError):
                left_out += 1
                continue
            key_fields = {name: getattr(key, name) for name in KEY_FIELDS}
            rows.append(KeptDialogue(**key_fields, state=record.state, data=data, kept_at=now))
        if rows:
            async with write_session(factory) as session:
                session.add_all(rows)
        if rows or left_out:
            log.info("dialogues kept for the next start: %d (left out: %d)", len(rows), left_out)
        return len(rows)

    async def restore(self, factory: async_sessionmaker[AsyncSession]) -> int:
        """Read the dialogues the last stop kept back into memory, and delete them."""
        async with write_session(factory) as session:
            rows = list(await session.scalars(select(KeptDialogue).order_by(KeptDialogue.id)))
            if rows:
                await session.execute(delete(KeptDialogue))
        for row in rows:
            key = StorageKey(**{name: getattr(row, name) for name in KEY_FIELDS})
            self.storage[key] = MemoryStorageRecord(data=json.loads(row.data), state=row.state)
        if rows:
            log.info("dialogues restored from the last stop: %d", len(rows))
        return len(rows)
