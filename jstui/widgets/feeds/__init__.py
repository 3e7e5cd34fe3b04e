"""The Feeds pane: live message feeds in tabs, drawn in batches from each feed's ring buffer.

Three modules, top to bottom: `pane` (`FeedsPane`: tabs, keys, dialogs) holds one `view`
(`FeedView`: a feed's state line, counters, sparkline and bars) per tab, and each view one `log`
(`FeedLog`: the lines, cached strips, the cursor). Lines are built by `jstui.format.lines`.

A message's way: nats-py appends it to the feed's ring buffer (`jstui.nats.feeds.Feed`); the pane's
timer (15 Hz) has each view take at most a screenful plus a margin of the newest messages, format
them and append them to its log in one batch. A paused view takes nothing: the buffer keeps
filling and the view says "+N new"; End draws the newest screenful and follows again. Counters:
received = shown + filtered + dropped (+ new while paused).
"""

from jstui.widgets.feeds.log import FeedLog
from jstui.widgets.feeds.pane import FeedsPane
from jstui.widgets.feeds.view import FeedView

__all__ = ["FeedLog", "FeedView", "FeedsPane"]
