"""The MLP applies dropout to the hidden activations instead of after c_proj."""
TARGET = "norm.py"


def forward(self, x):
    return self.c_proj(self.dropout(gelu(self.c_fc(x))))


MLP.forward = forward
