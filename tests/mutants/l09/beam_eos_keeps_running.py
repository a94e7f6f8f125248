"""Beam search keeps a beam that produced EOS among the live beams (finished hypotheses keep growing)."""
TARGET = 'generate.py'
REPLACE = {
    '                elif len(live_beam) < num_beams:\n': '                if token != eos_token_id and n == max_new_tokens:\n                    continue\n                if len(live_beam) < num_beams:\n',
}
