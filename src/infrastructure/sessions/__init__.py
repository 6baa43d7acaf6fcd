"""Dashboard sessions in Redis (when SLUICE_REDIS_URL is set); the SQL store is in persistence/."""
