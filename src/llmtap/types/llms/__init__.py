"""``litellm.types.llms``: per-provider request types; see ``openai``."""
