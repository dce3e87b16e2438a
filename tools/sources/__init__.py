"""Data sources beyond event logs: the Spark History Server, JDBC tables, streaming / Kafka."""
