"""Lesson 7: assembling the GPT (GPT-2 small, loadable from Hugging Face weights)."""
