"""Deciding: rules → `Decision` (design key, trace, valid_until), exact variant enumeration, render keys."""
