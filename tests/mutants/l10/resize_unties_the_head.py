"""Resizing gives lm_head its own new matrix: the embedding and the output layer are no longer tied."""
TARGET = 'template.py'
REPLACE = {
    '        new_rows = old.mean(dim=0, keepdim=True).expand(vocab_size - old.shape[0], -1)\n        weight = nn.Parameter(torch.cat([old, new_rows]))\n    model.transformer.wte.weight = weight\n    model.lm_head.weight = weight  # keep the tie: one Parameter, two uses\n': '        rows = torch.cat([old, old.mean(0, keepdim=True).expand(vocab_size - old.shape[0], -1)])\n    model.transformer.wte.weight = nn.Parameter(rows)\n    model.lm_head.weight = nn.Parameter(rows.clone())\n',
}
