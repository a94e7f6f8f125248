"""num_parameters counts the tied wte / lm_head matrix twice (summing over the state dict)."""
TARGET = "gpt.py"


def num_parameters(self, non_embedding=True):
    total = sum(t.numel() for t in self.state_dict().values())
    return total - self.transformer.wpe.weight.numel() if non_embedding else total


GPT.num_parameters = num_parameters
