"""The course's data: L10's generated chat sets are reproducible and honest, and the shipped checkpoints load."""
from __future__ import annotations

import torch

from grader.lessons import COURSE_ROOT
from solutions.l08.train import load_model
from solutions.l10.make_data import KINDS, TASKS, check_reply, main as make_data, preferred, read_jsonl

CHAT = COURSE_ROOT / "data" / "chat"
FILES = ("sft_train.jsonl", "sft_test.jsonl", "prefs_train.jsonl", "prefs_test.jsonl")


def test_chat_data_is_what_the_documented_command_writes(tmp_path):
    make_data(["--out", str(tmp_path)])
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (CHAT / name).read_bytes(), (
            f"data/chat/{name} differs from what `python -m solutions.l10.make_data` writes: rerun it and commit"
        )


def test_held_out_requests_never_occur_in_training():
    def requests(rows, key):
        return {message["content"] for row in rows for message in row[key] if message["role"] == "user"}

    sft_train, sft_test = read_jsonl(CHAT / "sft_train.jsonl"), read_jsonl(CHAT / "sft_test.jsonl")
    prefs_train, prefs_test = read_jsonl(CHAT / "prefs_train.jsonl"), read_jsonl(CHAT / "prefs_test.jsonl")
    seen = requests(sft_train, "messages") | requests(prefs_train, "prompt")
    assert not seen & requests(sft_test, "messages"), "a held-out SFT request is in the training files"
    assert not seen & requests(prefs_test, "prompt"), "a held-out preference prompt is in the training files"
    assert {row["task"] for row in sft_test} == set(TASKS) and {row["kind"] for row in prefs_test} == set(KINDS)


def test_every_answer_and_preference_checks_out():
    for row in read_jsonl(CHAT / "sft_test.jsonl"):
        request, reply = row["messages"][0]["content"], row["messages"][1]["content"]
        assert check_reply(row["task"], request, reply), f"held-out answer judged wrong by its own checker: {row}"
    for name in ("prefs_train.jsonl", "prefs_test.jsonl"):
        for pair in read_jsonl(CHAT / name):
            request = pair["prompt"][-1]["content"]
            assert preferred(pair["kind"], pair["task"], request, pair["chosen"]), f"{name}: chosen is not preferred: {pair}"
            assert not preferred(pair["kind"], pair["task"], request, pair["rejected"]), f"{name}: rejected is preferred: {pair}"


def test_shipped_checkpoints_load():
    model, tokenizer = load_model(COURSE_ROOT / "data" / "checkpoints" / "shakespeare")
    assert model.config.vocab_size == max(tokenizer.vocab) + 1 == 1024
    chat, chat_tokenizer = load_model(COURSE_ROOT / "data" / "checkpoints" / "shakespeare-chat")
    assert {"<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"} <= chat_tokenizer.special_tokens.keys()
    assert chat.config.vocab_size == max(chat_tokenizer.vocab) + 1
    metrics = torch.load(COURSE_ROOT / "data" / "checkpoints" / "shakespeare-chat" / "model.pt", weights_only=True)["metrics"]
    assert metrics["ppo"]["format"] >= 0.95 and metrics["ppo"]["preferred"] >= 0.9, metrics["ppo"]
