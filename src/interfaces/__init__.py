"""What drives the core: HTTP (Litestar), the CLI, and the composition root (dishka)."""
