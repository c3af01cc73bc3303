"""Tests of evals/."""
