"""`Clock`: a fixed simulation tick with an accumulator; rendering interpolates between ticks.

    clock = Clock(tick_rate=60)
    for _ in range(clock.advance(real_dt)):   # 0, 1 or a few ticks this frame
        game.tick()
    render(alpha=clock.alpha)                 # fraction of a tick since the last one

Pause stops ticks (``step()`` then queues exactly one); ``time_scale`` speeds up or slows down
game time without changing the tick length, so the simulation stays deterministic.
"""

from __future__ import annotations


class Clock:
    """Fixed-step accumulator. ``dt`` is the tick length in seconds (1/tick_rate)."""

    def __init__(self, tick_rate: float = 60.0, max_ticks_per_frame: int = 5) -> None:
        if not tick_rate > 0:
            raise ValueError(f"tick_rate must be > 0, got {tick_rate}")
        self.tick_rate = float(tick_rate)
        self.dt = 1.0 / self.tick_rate
        self.max_ticks_per_frame = max_ticks_per_frame
        self.accumulator = 0.0
        self.paused = False
        self.time_scale = 1.0
        self._steps = 0
        self.dropped = 0.0  # seconds of game time dropped because frames were too slow

    def advance(self, real_dt: float) -> int:
        """Add ``real_dt`` seconds of wall time; return how many ticks to run now."""
        if self._steps:
            n, self._steps = self._steps, 0
            return n
        if self.paused:
            return 0
        self.accumulator += max(0.0, real_dt) * self.time_scale
        n = int(self.accumulator / self.dt)
        if n > self.max_ticks_per_frame:
            self.dropped += (n - self.max_ticks_per_frame) * self.dt
            n = self.max_ticks_per_frame
            self.accumulator = self.dt * 0.999  # keep a little to stay smooth
        else:
            self.accumulator -= n * self.dt
        return n

    @property
    def alpha(self) -> float:
        """Interpolation factor in [0, 1) between the previous and the latest tick."""
        return min(max(self.accumulator / self.dt, 0.0), 1.0) if not self.paused else 1.0

    def pause(self, paused: bool | None = None) -> None:
        """Pause, resume, or toggle when called without an argument."""
        self.paused = (not self.paused) if paused is None else paused
        self.accumulator = 0.0

    def step(self, n: int = 1) -> None:
        """While paused, run exactly ``n`` ticks on the next ``advance``."""
        self._steps += n
