"""Ingestion: load, chunk, embed and index guidance documents."""
