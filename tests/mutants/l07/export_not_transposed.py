"""hf_state_dict exports nn.Linear's (out, in) weights where Hugging Face's Conv1D expects (in, out)."""
TARGET = "gpt.py"


def hf_state_dict(self):
    return dict(self.state_dict())


GPT.hf_state_dict = hf_state_dict
