"""Use cases and the ports they need; knows the domain and the standard library only."""
