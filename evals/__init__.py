"""Evaluation of the assistant: gold-set scoring (`python -m evals`) and BEIR retrieval (`python -m evals.beir`)."""
