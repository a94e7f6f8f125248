"""The blocks are post-norm (normalize the sum) instead of GPT-2's pre-norm."""
TARGET = "gpt.py"

from ..l05.norm import PostNormBlock  # noqa: E402

Block.forward = PostNormBlock.forward
