"""The twin: a stateful mock server driven by the OpenAPI specs derived from the guides."""
