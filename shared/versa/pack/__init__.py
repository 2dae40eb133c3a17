"""Rule packs: the schema, the loader and its checks."""
