"""rollout generates every group for max_new_tokens and cuts the replies afterwards: stop_id never reaches generate."""
TARGET = "ppo.py"
REPLACE = {"temperature=temperature, stop_tokens=(stop_id,), generator=generator)": "temperature=temperature, generator=generator)"}
