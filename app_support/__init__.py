"""Streamlit-specific helpers of the dashboard: session state, inputs, caching and page registry.

Only the dashboard imports this package; the scientific library ``qscore`` never does.
"""
