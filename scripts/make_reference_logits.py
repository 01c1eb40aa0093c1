#!/usr/bin/env python3
"""Reference logits of the default model from an independent implementation.

Loads models/SmolLM2-135M-Instruct.Q4_1.gguf with Hugging Face transformers (which dequantizes the
GGUF to float32 and runs its own PyTorch Llama, with its own un-permutation of the Q/K weights and
its own rotary embedding), runs three prompts on the CPU and writes, for the first 32 positions of
each, the 20 largest logits with their ids and the logits of 256 fixed vocabulary ids. The C++ test
(tests/test_reference_logits.cpp) feeds the same token ids through the engine and compares.

Usage: python3 scripts/make_reference_logits.py [MODEL_DIR] > tests/data/reference_logits.json
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
POSITIONS = 32
TOP = 20
SAMPLED_IDS = 256

PROMPTS = [
    "The lighthouse keeper climbed the spiral stairs every evening, counting the steps out loud "
    "while the wind pressed against the narrow windows and the sea below turned from grey to black.",
    "def merge_sorted(left, right):\n    result = []\n    i = j = 0\n    while i < len(left) and "
    "j < len(right):\n        if left[i] <= right[j]:\n            result.append(left[i])\n",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>user\nWhat is the capital of France, and why is it famous?<|im_end|>\n"
    "<|im_start|>assistant\n",
]


def main() -> None:
    model_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "models"
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, gguf_file=MODEL_FILE)
    model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=MODEL_FILE, dtype=torch.float32)
    model.eval()
    vocab = model.config.vocab_size
    sampled = np.random.default_rng(7).choice(vocab, SAMPLED_IDS, replace=False).tolist()

    cases = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(ids) < POSITIONS:
            raise SystemExit(f"prompt too short: {len(ids)} tokens")
        ids = ids[:POSITIONS]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].double().numpy()
        positions = []
        for row in logits:
            top = np.argsort(-row)[:TOP]
            positions.append({
                "top_ids": top.tolist(),
                "top_logits": [round(float(row[i]), 6) for i in top],
                "sampled_logits": [round(float(row[i]), 6) for i in sampled],
            })
        cases.append({"prompt": prompt, "token_ids": ids, "positions": positions})

    json.dump({
        "generator": "scripts/make_reference_logits.py",
        "model": MODEL_FILE,
        "reference": f"transformers {transformers.__version__}, torch {torch.__version__}, float32 on CPU",
        "sampled_ids": sampled,
        "cases": cases,
    }, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
