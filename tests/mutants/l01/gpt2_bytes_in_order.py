"""Loading GPT-2's files assumes base token i is byte i (GPT-2 gives "!" id 0)."""
TARGET = "bpe.py"
REPLACE = {
    "        tokenizer.byte_to_id = [vocab_json[stand_in[b]] for b in range(256)]\n": "        tokenizer.byte_to_id = list(range(256))\n",
}
