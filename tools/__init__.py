"""Tools: the editor, the viewer, headless render and benchmarks."""
