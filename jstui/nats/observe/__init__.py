"""Observation of a NATS system without changing it."""
