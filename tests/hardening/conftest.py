"""Hardening suites: hostile files (test_hostile_files.py) and crashes (test_crash.py). RF_SOAK=1 runs the long versions."""
