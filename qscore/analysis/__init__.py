"""What per-atom Q-scores mean: averages, expected bands, archive percentiles and statistics,
model maps, CC and B-factors."""
