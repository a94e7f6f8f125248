"""The assistant's <|end|> left out of the mask: SFT never teaches the model to stop."""
TARGET = "template.py"


def render_chat(tokenizer, messages, add_generation_prompt=False):
    special = tokenizer.special_tokens
    ids, mask = [], []
    for message in messages:
        if message["role"] not in ROLE_TOKENS:
            raise ValueError(f"unknown role {message['role']!r}")
        content = tokenizer.encode_ordinary(message["content"])
        ids += [special[ROLE_TOKENS[message["role"]]]] + content + [special[END]]
        mask += [False] + [message["role"] == "assistant"] * len(content) + [False]
    if add_generation_prompt:
        ids.append(special[ASSISTANT])
        mask.append(False)
    return ids, mask
