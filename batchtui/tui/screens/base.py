"""What every batchtui screen shares: typed access to the app (service, runs, dialogs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from .steady import SteadyCursor

if TYPE_CHECKING:
    from ..app import BatchtuiApp


class AppScreen(SteadyCursor, Screen[None]):
    """A screen of the batchtui app."""

    HELP_TITLE = "batchtui"

    @property
    def bt(self) -> BatchtuiApp:
        """The app, typed (a cast only: this is on hot paths)."""
        return cast("BatchtuiApp", self.app)
