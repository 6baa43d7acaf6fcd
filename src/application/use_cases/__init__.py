"""Use cases: one class per verb, each with a single `execute`."""
