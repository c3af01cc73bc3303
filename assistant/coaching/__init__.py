"""Coaching: read the message, retrieve, select questions, compose and verify the answer."""
