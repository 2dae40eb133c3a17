"""Generated copy and visuals: briefs, writers, guardrails (above render, whose layout checks that copy fits)."""
