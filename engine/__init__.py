"""Anchorworld engine core: ECS world, components, clock, input, levels, saves, Game API, CLI."""
