"""Analysis over tracked objects: zones, lines, dwell, counts, sizes, anomalies."""
