"""Real monitoring engines, packages and consumers running the plugins (see engines.py, scenarios.py)."""
