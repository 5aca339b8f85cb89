"""transformers generate() on the same model, prompts and batch as `r1lab generate`: the peer of
bench/run_generate_bench.sh. Sampling as in the paper (temperature 0.6, top-p 0.95), exactly N new tokens
per sequence (min_new_tokens = max_new_tokens, as r1lab's --ignore-eos). Times generate() only.
Prints JSON {"tokens_per_s", "seconds", "new_tokens", "peak_memory_gb"}.
Usage: generate_peer.py MODEL_DIR PROMPTS_JSONL BATCH NEW_TOKENS DEVICE DTYPE"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_dir, prompts_file, batch, new_tokens, device, dtype = sys.argv[1:7]
batch, new_tokens = int(batch), int(new_tokens)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
tokenizer.padding_side = "left"
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).to(device).eval()
lines = [json.loads(line) for line in open(prompts_file, encoding="utf-8")][:batch]
texts = [tokenizer.apply_chat_template(line["messages"], tokenize=False, add_generation_prompt=True) for line in lines]
inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)


def run(n):
    with torch.no_grad():
        return model.generate(**inputs, do_sample=True, temperature=0.6, top_p=0.95, top_k=0,
                              max_new_tokens=n, min_new_tokens=n, pad_token_id=tokenizer.pad_token_id)


run(4)   # warm-up
if device.startswith("cuda"):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
started = time.perf_counter()
out = run(new_tokens)
if device.startswith("cuda"):
    torch.cuda.synchronize()
seconds = time.perf_counter() - started
generated = (out.shape[1] - inputs["input_ids"].shape[1]) * out.shape[0]
peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else 0
print(json.dumps({"tokens_per_s": generated / seconds, "seconds": seconds, "new_tokens": generated, "peak_memory_gb": peak}))
