#!/usr/bin/env python3
"""Writes a tiny randomly initialised Qwen2 model folder (config.json, safetensors, tokenizer) for tests.

The weights are random, so the text it generates is nonsense; what the tests exercise is everything
around it: the HTTP protocol, storage, grading and reporting. The tokenizer is the real Qwen one from
the data directory, with the Qwen2.5 chat template, so prompts are tokenised as a real server would.

Usage: make_tiny_qwen2.py OUT_DIR --data-dir DATA [--seed 0]
"""
import argparse
import pathlib
import shutil

import torch
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=pathlib.Path)
    parser.add_argument("--data-dir", type=pathlib.Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tokenizer_dir = args.data_dir / "tokenizers" / "qwen3_tokenizer_npm"
    template = args.data_dir / "tokenizers" / "chat_templates" / "Qwen-Qwen2.5-7B-Instruct.jinja"
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    tokenizer.chat_template = template.read_text()

    torch.manual_seed(args.seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        tie_word_embeddings=True, eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        bos_token_id=None, pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"))
    model = Qwen2ForCausalLM(config).eval()
    staging = args.out_dir.with_name(args.out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    shutil.rmtree(args.out_dir, ignore_errors=True)
    staging.rename(args.out_dir)
    print(args.out_dir)


if __name__ == "__main__":
    main()
