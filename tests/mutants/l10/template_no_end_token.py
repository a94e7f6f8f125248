"""The chat template forgets <|end|>: the model never learns to end its turn."""
TARGET = "template.py"


def render_chat(tokenizer, messages, add_generation_prompt=False):
    special = tokenizer.special_tokens
    ids, mask = [], []
    for message in messages:
        if message["role"] not in ROLE_TOKENS:
            raise ValueError(f"unknown role {message['role']!r}")
        content = tokenizer.encode_ordinary(message["content"])
        ids += [special[ROLE_TOKENS[message["role"]]]] + content
        mask += [False] + [message["role"] == "assistant"] * len(content)
    if add_generation_prompt:
        ids.append(special[ASSISTANT])
        mask.append(False)
    return ids, mask
