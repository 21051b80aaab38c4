"""What the card's "🤝 Introduced by…" says when the choice cannot be saved."""

from __future__ import annotations

from bot.i18n import _
from views.rendering import h


def itself(name: str) -> str:
    return _(
        "{name} cannot be introduced by themselves. Send another name, or “-” for nobody."
    ).format(name=h(name))


def loop(name: str, introducer: str) -> str:
    """The introducer was (through others) introduced by this very card: a circle."""
    return _(
        "{introducer} came to you through {name} (see their “introduced by”), so {name} cannot "
        "have been introduced by {introducer}. Send another name, or “-” for nobody."
    ).format(introducer=h(introducer), name=h(name))
