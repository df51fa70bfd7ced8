"""Renderer: ModernGL passes fed by proxies, Gaussians and transforms (knows nothing of the ECS)."""
