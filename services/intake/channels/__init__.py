"""Intake's channels, one package each, all run through the one ``Channel`` interface.

``app.py`` builds every channel on the runtime with intake's settings, mounts
its routers, starts its background loops and ensures its indexes; it knows no
channel by anything else. A channel's routers are module-level: what they
need is the channel's ``parts``, which ``app.py`` sets on the app as
``app.state.channels[name]`` and the routes read through ``parts_reader``, so no
channel reads another's. A package's other modules are that channel's own
(parsers, listeners); what several channels use stays at the top of intake.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ClassVar, Protocol

from fastapi import APIRouter, Request

from services.intake.settings import IntakeSettings
from shared.messages import Channel as ChannelName
from shared.runtime import Runtime
from shared.store import IndexPlan

Loop = Callable[[], Coroutine[Any, Any, None]]


class Channel(Protocol):
    """One way contacts come in, built on a runtime: its routes, loops and collections."""

    @property
    def name(self) -> ChannelName:
        """Return the channel its contacts carry (``Contact.channel``)."""
        ...

    @property
    def indexes(self) -> IndexPlan:
        """Return the indexes of the collections the channel keeps beside intake's own."""
        ...

    @property
    def parts(self) -> object:
        """Return what the channel's routes read from ``app.state.channels[name]``."""
        ...

    def routers(self) -> Sequence[APIRouter]:
        """Return the HTTP routes the channel receives contacts on."""
        ...

    def background(self) -> Sequence[Loop]:
        """Return the loops that run beside the routes until intake stops."""
        ...


# How app.py builds a channel: each package's channel class is one.
OpenChannel = Callable[[Runtime, IntakeSettings], Channel]


def parts_reader(name: ChannelName) -> Callable[[Request], Any]:
    """Return the dependency that reads channel ``name``'s parts off the app a request came to.

    A route declares ``Parts = Annotated[XParts, Depends(parts_reader("x"))]``.
    """

    def read(request: Request) -> Any:
        return request.app.state.channels[name]

    return read


class RoutesOnly:
    """A channel that is its routes alone: no loop, no collection of its own."""

    indexes: ClassVar[IndexPlan] = {}

    def background(self) -> Sequence[Loop]:
        """Return no loop: each contact is taken within its request."""
        return []
