"""Ideal-geometry builders: proteins, nucleic acids, ligands, glycans, waters and ions."""
