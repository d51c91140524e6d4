"""Clouds the engine acts on: the built-in simulated one, and later real ones."""
