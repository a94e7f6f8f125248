"""Lesson 8: training a GPT (token stream, batches, loss, AdamW, schedule, clipping, checkpoints)."""
import os

# PyTorch's CPU threads (OpenMP) spin while they wait for work. On a machine shared with other jobs the
# spinning steals the cores the threads are waiting for, and a 2-thread run gets up to 10x slower; waiting
# passively costs little on a free machine. OpenMP reads this once, when torch is first imported, so it is
# set here, before `python -m exercises.l08.train` imports torch (a value you set yourself wins).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
