"""generate does not pass top_k and top_p on to stream: sampling ignores both filters."""
TARGET = "generate.py"
REPLACE = {
    "temperature=temperature, top_k=top_k, top_p=top_p,\n        repetition_penalty=repetition_penalty,": "temperature=temperature,\n        repetition_penalty=repetition_penalty,",
}
