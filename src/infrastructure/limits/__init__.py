"""Rate limiter and spend counter adapters: `memory` (one process) and `redis` (shared)."""
