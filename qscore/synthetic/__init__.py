"""Synthetic teaching data with known truth: ideal-geometry models, simulated maps, scenarios."""
