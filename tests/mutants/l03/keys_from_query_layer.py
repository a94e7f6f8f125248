"""Keys computed with the query projection: q and k share weights, so scores become symmetric."""
TARGET = "attention.py"


def forward(self, x, mask=None, return_weights=False):
    q, k, v = self.query(x), self.query(x), self.value(x)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    return (out, weights) if return_weights else out


SelfAttention.forward = forward
