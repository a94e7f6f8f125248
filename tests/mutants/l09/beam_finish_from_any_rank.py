"""Beam search lets every ending candidate finish, not only those among the best num_beams."""
TARGET = 'generate.py'
REPLACE = {
    '                    if rank < num_beams:\n': '                    if True:\n',
}
