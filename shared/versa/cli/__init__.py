"""The `versa` command line."""
