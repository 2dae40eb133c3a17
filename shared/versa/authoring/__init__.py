"""Authoring: checks a pack author runs before publishing (lint lays out text and walks every variant)."""
