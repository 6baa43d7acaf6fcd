"""Sluice's pure rules: accounts, keys, plans and rate policy, credits, pricing, usage.

Imports nothing but the standard library (an import-linter contract holds it to that).
"""
