"""num_parameters counts the tied wte / lm_head matrix twice (summing over the state dict)."""
TARGET = "gpt.py"
REPLACE = {"total = sum(p.numel() for p in self.parameters())": "total = sum(t.numel() for t in self.state_dict().values())"}
