"""Page → ``Observation``: metadata, addressable elements with short ids, and an LLM text view."""
