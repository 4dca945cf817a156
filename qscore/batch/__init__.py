"""Scoring many map/model pairs on a Dask cluster, resumably, and refitting the archive model."""
