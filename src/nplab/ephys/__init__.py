"""Whole-cell patch-clamp recordings (``nplab.ephys``): ABF reading, per-sweep
measurement, QC and concentration–response analysis."""
