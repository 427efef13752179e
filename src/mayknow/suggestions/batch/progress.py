"""A progress bar over the batches of viewers, counted in two-hop paths."""

from __future__ import annotations

from typing import Never

from tqdm import tqdm

from mayknow.suggestions.batch.plan import Batch


class BatchBar:
    def __init__(self, *, enabled: bool, label: str) -> None:
        self.enabled, self.label = enabled, label
        self._bar: tqdm[Never] | None = None
        self._batches = 0

    def start(self, batches: list[Batch]) -> None:
        if not self.enabled:
            return
        self._batches = len(batches)
        self._bar = tqdm(
            total=sum(b.paths for b in batches),
            desc=self.label,
            unit=" paths",
            unit_scale=True,
            dynamic_ncols=True,
            leave=True,
        )

    def advance(self, batch: Batch) -> None:
        if self._bar is not None:
            self._bar.update(batch.paths)
            self._bar.set_postfix_str(f"viewers<{batch.hi} of {self._batches} batches")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
