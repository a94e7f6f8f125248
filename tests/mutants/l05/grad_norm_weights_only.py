"""The measurement counts only the weight matrices of the block (p.dim() > 1), leaving out LayerNorm's and the biases' gradients."""
TARGET = "norm.py"
REPLACE = {
    '    grads = torch.autograd.grad(loss, list(blocks[layer].parameters()))\n':
    '    grads = torch.autograd.grad(loss, [p for p in blocks[layer].parameters() if p.dim() > 1])\n',
}
