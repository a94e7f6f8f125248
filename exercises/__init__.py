"""LLM From Scratch: the learner's lessons. Each ``lNN`` package holds stubs to fill in and their specs."""
