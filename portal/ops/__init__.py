"""Operations: the schema check at start, Prometheus metrics, the health page, JSON logs, backups."""
