"""The process's long-lived objects, kept out of the garbage collector's full passes.

What a worker loads at start (the standards tables, the rule set, the app and its database engine)
lives as long as the process, some 120,000 objects. A full (generation 2) collection walks all of
them every time: ~50 ms measured, the whole p99 budget of a match request (bench/http.py). Freezing
them after start moves them to the permanent generation, so a full pass sees only what requests made.
"""

from __future__ import annotations

import asyncio
import gc

# After a reload, requests already running still use the replaced rule set; it can only be collected
# once they are done, so the heap is frozen again this much later.
SETTLE_AFTER_RELOAD_SECONDS = 30.0


def settle() -> None:
    """Collect what is garbage now, then freeze everything alive (call once loading is done)."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Unfreeze everything (the app is stopping: what it held may be collected, as in a test process
    that starts and stops many apps)."""
    gc.unfreeze()


def release_replaced(loop: asyncio.AbstractEventLoop) -> None:
    """After swapping in a new rule set: unfreeze, so the replaced set is collected like any garbage
    once no request uses it, and settle again later."""
    thaw()
    loop.call_later(SETTLE_AFTER_RELOAD_SECONDS, settle)
