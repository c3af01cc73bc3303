"""Tests of coaching/."""
