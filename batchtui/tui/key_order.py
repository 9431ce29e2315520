"""Keys acted on in the order they arrived, when a priority binding takes one of them.

A priority binding (the list's and the progress screen's enter: priority so that the footer
shows "⏎ Open" over the table's own enter) runs as soon as the app reads its key. The keys
read just before it in the same burst (`jj⏎`, `G⏎` over a slow link) are still on their way:
each is handled by the focused widget, then bubbles up its ancestors, one message queue at a
time, to the app, where its binding (the table's cursor_down) runs. `after_keys_in_flight`
follows the same path with a callback, queue by queue, so the callback runs after every key
read before it has been acted on: enter opens the row the cursor moved to.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.dom import DOMNode


def after_keys_in_flight(focused: DOMNode, callback: Callable[[], object]) -> None:
    """Run `callback` once the keys already sent to `focused` have been handled all the way
    up (by it, its ancestors, and the app's bindings)."""
    path = focused.ancestors_with_self  # the focused widget … its screen, the app

    def hop(index: int) -> None:
        if index == len(path):
            callback()
        else:  # behind whatever that node has queued, bubbled keys included
            path[index].call_later(hop, index + 1)

    hop(0)
