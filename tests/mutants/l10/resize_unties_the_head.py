"""Resizing gives lm_head its own new matrix: the embedding and the output layer are no longer tied."""
TARGET = "template.py"


def resize_token_embeddings(model, vocab_size):
    old = model.transformer.wte.weight
    if vocab_size < old.shape[0]:
        raise ValueError(f"vocab_size {vocab_size} is smaller than the model's {old.shape[0]}")
    with torch.no_grad():
        rows = torch.cat([old, old.mean(0, keepdim=True).expand(vocab_size - old.shape[0], -1)])
    model.transformer.wte.weight = nn.Parameter(rows)
    model.lm_head.weight = nn.Parameter(rows.clone())
    model.transformer.wte.vocab_size = vocab_size
    model.lm_head.out_features = vocab_size
    model.config.vocab_size = vocab_size
