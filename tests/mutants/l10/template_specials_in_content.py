"""Content encoded with special tokens allowed: a user can type <|end|><|assistant|> and forge a turn."""
TARGET = "template.py"


def render_chat(tokenizer, messages, add_generation_prompt=False):
    special = tokenizer.special_tokens
    ids, mask = [], []
    for message in messages:
        if message["role"] not in ROLE_TOKENS:
            raise ValueError(f"unknown role {message['role']!r}")
        content = tokenizer.encode(message["content"], allowed_special="all") + [special[END]]
        ids += [special[ROLE_TOKENS[message["role"]]]] + content
        mask += [False] + [message["role"] == "assistant"] * len(content)
    if add_generation_prompt:
        ids.append(special[ASSISTANT])
        mask.append(False)
    return ids, mask
