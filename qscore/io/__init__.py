"""Reading and writing maps and models: density grids, atomic models and scored exports."""
