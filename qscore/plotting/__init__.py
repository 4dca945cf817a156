"""Figure builders (Plotly) and the 3D viewer (py3Dmol HTML): data in, figure out."""
