"""Rendering: fonts, bidirectional text, line layout, layer drawing, countdowns, encoders, the memoized renderer.

Import the module you need (`versa.render.engine`, `versa.render.text`, …): this package re-exports nothing,
so that reading a font table never drags the whole renderer in.
"""
