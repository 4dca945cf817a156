"""Figure builders (Plotly) and the 3D residue view (3Dmol.js page): data in, figure out."""
