"""Renderers of finished observations and checks; they never evaluate again."""
