"""LLM From Scratch: the reference solutions (instructor only; `llmfs sync` generates exercises/ from here)."""
