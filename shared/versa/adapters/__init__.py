"""Adapters: local (directory, SQLite, offline writer, in-process queue) and AWS (S3, DynamoDB, SQS)."""
