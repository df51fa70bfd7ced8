"""`RangeAllocator`: contiguous ranges in a growable 1-D slot space (splats, SH rows, anchor slots).

Strategy (documented for the splat pass): first fit over a sorted free list whose neighbours
coalesce on free; when nothing fits the range is taken at the high-water mark, growing the
capacity by doubling (the owner copies the old contents GPU-side, nothing is re-uploaded).
Freeing the topmost range lowers the high-water mark, so draws cover ``[0, high_water)`` only.
There is no compaction: free holes are drawn as culled slots until reused; `fragmentation()` says
how much of the drawn range they are.
"""

from __future__ import annotations

import bisect


class RangeAllocator:
    """Hands out ``[start, start + n)`` ranges of slots; ``capacity`` grows by doubling."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = max(1, int(capacity))
        self.high_water = 0
        self._free: list[tuple[int, int]] = []  # sorted (start, length), coalesced, all below high_water

    def alloc(self, n: int) -> int:
        """Reserve ``n`` (> 0) contiguous slots; returns the start. May raise ``capacity``."""
        if n <= 0:
            raise ValueError(f"allocation size must be positive, got {n}")
        for i, (start, length) in enumerate(self._free):
            if length >= n:
                if length == n:
                    del self._free[i]
                else:
                    self._free[i] = (start + n, length - n)
                return start
        start = self.high_water
        self.high_water += n
        while self.high_water > self.capacity:
            self.capacity *= 2
        return start

    def free(self, start: int, n: int) -> None:
        """Return ``[start, start + n)``; neighbours merge and the top range lowers the high-water mark."""
        if n <= 0:
            return
        i = bisect.bisect_left(self._free, (start, 0))
        # merge with the previous and next free ranges
        if i > 0 and self._free[i - 1][0] + self._free[i - 1][1] == start:
            start, n = self._free[i - 1][0], self._free[i - 1][1] + n
            del self._free[i - 1]
            i -= 1
        if i < len(self._free) and start + n == self._free[i][0]:
            n += self._free[i][1]
            del self._free[i]
        if start + n == self.high_water:
            self.high_water = start
        else:
            self._free.insert(i, (start, n))

    def free_slots(self) -> int:
        """Slots below the high-water mark that are free (holes)."""
        return sum(length for _, length in self._free)

    def fragmentation(self) -> float:
        """Fraction of ``[0, high_water)`` that is holes."""
        return self.free_slots() / self.high_water if self.high_water else 0.0
