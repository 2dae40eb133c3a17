"""Request context: headers, query and clock → a `RequestContext` whose every signal carries its source."""
