"""The MLP uses ReLU instead of GELU."""
TARGET = "norm.py"
REPLACE = {
    '        return self.dropout(self.c_proj(gelu(self.c_fc(x))))\n':
    '        return self.dropout(self.c_proj(torch.relu(self.c_fc(x))))\n',
}
