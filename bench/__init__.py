"""Benchmarks that print ratios against anchors measured in the same run (``make bench``).

Not part of the test suite. ``python -m bench.run`` runs them all on both modes and writes
``bench/results/latest.md``; see ``bench/run.py``.
"""
