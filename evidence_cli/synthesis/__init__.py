"""Evidence synthesis: effect sizes, pooling, plots and GRADE certainty for review outcomes."""
