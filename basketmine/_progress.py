"""Progress on stderr for long runs: a running count for the miners and a
step bar for multi-step jobs (recommend, compare, report).  Both are tqdm
bars that appear only once a run has taken longer than a second; nothing is
printed when progress is off."""
from __future__ import annotations

import sys

from ._lazy import LazyModule

_tqdm = LazyModule("tqdm.auto")

#: Seconds before a bar appears; shorter runs print nothing.
DELAY = 1.0


class Counter:
    """A running count of results ('<label>: <n> <unit> [elapsed]'), updated
    by ``counter(n_found, seconds)``."""

    def __init__(self, label: str, unit: str):
        self.bar = _tqdm.tqdm(desc=label, unit=f" {unit}", file=sys.stderr, dynamic_ncols=True, delay=DELAY,
                        bar_format="{desc}: {n_fmt}{unit} [{elapsed}]")

    def __call__(self, n_found: int, elapsed: float) -> None:
        self.bar.update(max(n_found - self.bar.n, 0))

    def close(self, n_found: int | None = None) -> None:
        if n_found is not None:
            self.bar.update(max(n_found - self.bar.n, 0))
        self.bar.close()


class Steps:
    """A bar over ``total`` named steps: ``steps("what was done")`` advances
    it by one and shows the message.  With ``enabled`` false every call is a
    no-op.  Use as a context manager so the bar is closed on errors too."""

    def __init__(self, label: str, total: int, enabled: bool):
        self.bar = _tqdm.tqdm(desc=label, total=total, unit="step", file=sys.stderr, dynamic_ncols=True,
                        delay=DELAY, bar_format="{desc}: |{bar:20}| {n}/{total}{postfix} [{elapsed}]") \
            if enabled else None

    def __call__(self, message: str, advance: int = 1) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(message, refresh=False)
            self.bar.update(advance)

    def note(self, message: str) -> None:
        """Show ``message`` without advancing."""
        self(message, advance=0)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> "Steps":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
