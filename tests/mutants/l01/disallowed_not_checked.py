"""Disallowed special tokens are not checked: text holding "<|endoftext|>" is encoded instead of raising."""
TARGET = "bpe.py"
REPLACE = {
    "        if disallowed:\n            found = regex.search(special_token_pattern(disallowed), text)\n"
    "            if found:\n                raise disallowed_special_error(found.group())\n": "",
}
