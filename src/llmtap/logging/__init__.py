"""Callbacks: the call record, the hooks it feeds, and the worker that delivers them."""
