"""Tests of ingestion/."""
