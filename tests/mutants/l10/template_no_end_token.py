"""The chat template forgets <|end|>: the model never learns to end its turn."""
TARGET = 'template.py'
REPLACE = {
    '        role = message["role"]\n        if role not in ROLE_TOKENS:\n            raise ValueError(f"unknown role {role!r}: expected one of {sorted(ROLE_TOKENS)}")\n        content = tokenizer.encode_ordinary(message["content"]) + [special[END]]\n        ids += [special[ROLE_TOKENS[role]]] + content\n        mask += [False] + [role == "assistant"] * len(content)\n': '        if message["role"] not in ROLE_TOKENS:\n            raise ValueError(f"unknown role {message[\'role\']!r}")\n        content = tokenizer.encode_ordinary(message["content"])\n        ids += [special[ROLE_TOKENS[message["role"]]]] + content\n        mask += [False] + [message["role"] == "assistant"] * len(content)\n',
}
