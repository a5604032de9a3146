"""Helpers the tests and the benchmarks share (waiting on a condition, filling ``job_runs``).

Not part of the app (not installed with it), and free of either side's settings: importing
it configures nothing, so ``bench`` never drags in the tests' settings, nor the tests the
benchmarks'. Django is imported inside the functions that need it.
"""
