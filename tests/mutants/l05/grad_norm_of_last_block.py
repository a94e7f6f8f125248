"""The measurement ignores `layer` and always reports the last block's gradient."""
TARGET = "norm.py"
REPLACE = {
    '    grads = torch.autograd.grad(loss, list(blocks[layer].parameters()))\n':
    '    grads = torch.autograd.grad(loss, list(blocks[-1].parameters()))\n',
}
