"""Capture sources: files and streams of captured frames -> TCP segments -> TLS connections."""
