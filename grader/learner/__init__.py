"""The learner's tools: progress (status, next, hint, watch), lesson notebooks, chat."""
