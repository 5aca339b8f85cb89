"""transformers generate() beside build/bench/gpu_bench's batch benchmark: the same model shape (the
config.json gpu_bench wrote), randomly initialised on the device in bf16, the same batch of prompts of
the same length, the paper's sampling (temperature 0.6, top-p 0.95), exactly NEW_TOKENS per sequence
(min_new_tokens = max_new_tokens, as gpu_bench's ignore_eos). Times generate() only, after a warm-up.
Prints one JSON line {"tokens_per_s", "seconds", "new_tokens", "peak_memory_gb"}.

    gpu_generate_peer.py MODEL_DIR BATCH PROMPT_TOKENS NEW_TOKENS [DEVICE=cuda]
"""
import json
import sys
import time

import torch
from transformers import AutoConfig, AutoModelForCausalLM


def main():
    model_dir, batch, prompt_tokens, new_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    device = sys.argv[5] if len(sys.argv) > 5 else "cuda"
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    config = AutoConfig.from_pretrained(model_dir)
    torch.manual_seed(1234)
    with torch.device(device):   # initialised where it runs: a CPU initialisation of 7B weights takes minutes
        model = AutoModelForCausalLM.from_config(config, dtype=dtype).eval()
    # gpu_bench's prompts: token r*7919 + t*104729 (mod 100000) + 1000 of row r, position t.
    ids = torch.tensor([[1000 + (r * 7919 + t * 104729) % 100000 for t in range(prompt_tokens)] for r in range(batch)],
                       device=device)
    mask = torch.ones_like(ids)

    def run(n):
        with torch.no_grad():
            return model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=0.6, top_p=0.95, top_k=0,
                                  max_new_tokens=n, min_new_tokens=n, pad_token_id=config.pad_token_id)

    run(4)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    out = run(new_tokens)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    generated = (out.shape[1] - prompt_tokens) * out.shape[0]
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else 0
    print(json.dumps({"tokens_per_s": generated / seconds, "seconds": seconds, "new_tokens": generated, "peak_memory_gb": peak}))


if __name__ == "__main__":
    main()
