"""The MLP uses ReLU instead of GELU."""
TARGET = "norm.py"


def forward(self, x):
    return self.dropout(self.c_proj(torch.relu(self.c_fc(x))))


MLP.forward = forward
