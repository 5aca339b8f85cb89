"""The reference the model tests compare with: Hugging Face transformers, in fp32 on the CPU unless told.

  model_oracle.py make qwen2|llama OUT_DIR --data-dir DATA [--shard] [--dtype float32|bfloat16] [--shape S]
      a tiny randomly initialised model with the real Qwen tokenizer: Qwen2 (QKV bias, tied embeddings)
      or Llama (no bias, untied, Llama 3 RoPE scaling); both grouped-query. --shard splits the weights.
  model_oracle.py logits MODEL_DIR IN.json OUT.bin [--device cpu|cuda]
      IN: {"ids": [[...]], "mask": [[...]], "dtype": optional, float32 by default};
      OUT: the logits as float32, row-major (batch, T, vocab)
  model_oracle.py generate MODEL_DIR IN.json OUT.json [--device cpu|cuda]
      IN: {"prompts": [[ids]], "max_new_tokens": N}; greedy generate() of each prompt alone;
      OUT: {"tokens": [[new ids]]} (ending at EOS when it came)
"""
import argparse
import json
import pathlib
import shutil

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, Qwen2Config

torch.set_num_threads(2)


# tiny: the tests. bench: the CPU generation benchmark. qwen2.5-0.5b: Qwen2.5-0.5B's shape (GPU benchmark).
SHAPES = {
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2),
    "bench": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2),
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2),
}


def make(args):
    tokenizer_dir = args.data_dir / "tokenizers" / "qwen3_tokenizer_npm"
    template = args.data_dir / "tokenizers" / "chat_templates" / "Qwen-Qwen2.5-7B-Instruct.jinja"
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    tokenizer.chat_template = template.read_text()
    torch.manual_seed(args.seed)
    shape = SHAPES[args.shape]
    common = dict(vocab_size=len(tokenizer), max_position_embeddings=4096, **shape,
                  eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"), bos_token_id=None,
                  pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
                  # Larger than the default 0.02 so that distributions are peaked and greedy choices are
                  # not decided by rounding.
                  initializer_range=args.init)
    if args.family == "qwen2":
        config = Qwen2Config(tie_word_embeddings=True, rope_theta=1000000.0, **common)
    else:
        config = LlamaConfig(tie_word_embeddings=False, rope_theta=500000.0, rms_norm_eps=1e-5,
                             rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                           "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                             **common)
    model = AutoModelForCausalLM.from_config(config).eval()
    # Random norm weights and biases too, so that every parameter is exercised.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn_like(p))
    model = model.to(getattr(torch, args.dtype))
    out = args.out_dir
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(str(out), max_shard_size="1MB" if args.shard else "5GB")
    tokenizer.save_pretrained(str(out))
    print(out)


def load(model_dir, dtype="float32", device="cpu"):
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).to(device).eval()


def logits(args):
    spec = json.loads(pathlib.Path(args.input).read_text())
    model = load(args.model_dir, spec.get("dtype", "float32"), args.device)
    ids = torch.tensor(spec["ids"], device=args.device)
    mask = torch.tensor(spec["mask"], device=args.device)
    # Positions count real tokens, as generate() does for left padding.
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()
    out.cpu().contiguous().numpy().tofile(args.output)


def generate(args):
    spec = json.loads(pathlib.Path(args.input).read_text())
    model = load(args.model_dir, device=args.device)
    results = []
    for prompt in spec["prompts"]:
        ids = torch.tensor([prompt], device=args.device)
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=spec["max_new_tokens"], pad_token_id=0)
        results.append(out[0, len(prompt):].tolist())
    pathlib.Path(args.output).write_text(json.dumps({"tokens": results}))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("make")
    m.add_argument("family", choices=["qwen2", "llama"])
    m.add_argument("out_dir", type=pathlib.Path)
    m.add_argument("--data-dir", type=pathlib.Path, required=True)
    m.add_argument("--shard", action="store_true")
    m.add_argument("--dtype", default="float32")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    m.add_argument("--init", type=float, default=0.3, help="initializer_range")
    for name in ("logits", "generate"):
        p = sub.add_parser(name)
        p.add_argument("model_dir")
        p.add_argument("input")
        p.add_argument("output")
        p.add_argument("--device", default="cpu")
    args = parser.parse_args()
    {"make": make, "logits": logits, "generate": generate}[args.mode](args)


if __name__ == "__main__":
    main()
