"""Loading Hugging Face weights without transposing the Conv1D (in, out) matrices (square ones load silently wrong)."""
TARGET = "gpt.py"


def load_hf_state_dict(self, state_dict):
    params = dict(self.named_parameters())
    with torch.no_grad():
        for name, tensor in state_dict.items():
            if name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight":
                continue
            name = name if name.startswith("transformer.") else f"transformer.{name}"
            if name not in params:
                raise ValueError(f"unexpected key {name}")
            params[name].copy_(tensor.reshape(params[name].shape))


GPT.load_hf_state_dict = load_hf_state_dict
