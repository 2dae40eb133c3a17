"""Queue consumers deployed as their own functions: the copy generator (SQS → stored copy)."""
