"""Pure statistics: metrics, scalar and counts comparisons, repeated trials, chi-square,
multiplicity, seed robustness. No I/O; nothing here imports runners or reports."""
