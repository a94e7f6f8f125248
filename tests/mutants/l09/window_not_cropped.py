"""The context is not cropped to block_size: past block_size the model is fed too many positions."""
TARGET = 'generate.py'
REPLACE = {
    '                logits = model(ids[:, max(0, length - block_size) : length])[0][:, -1]\n': '                logits = model(ids[:, :length])[0][:, -1]\n',
    '                if cache.length + unseen > cache.max_len:  # window full: positions shift, rebuild the cache\n                    cache.reset()\n                    unseen = min(length, block_size)\n': '',
}
