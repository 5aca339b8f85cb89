#!/usr/bin/env python3
"""The peer of `r1lab train grpo` in bench/run_grpo_bench.sh: TRL's GRPOTrainer (PyPI) on the CPU, with the
same model folder, prompts, group size, completion length and loss settings, timed step by step.

Each step's time is split the way r1lab logs it: generation (the model's generate calls), rewards (the
reward function), and the rest (TRL's logprob passes, the loss, backward and the optimizer).

  trl_grpo_peer.py MODEL_DIR PROMPTS.jsonl OUT.json --steps N --prompts-per-step P --group-size G
                   --max-new-tokens T --lr X [--seed S]
PROMPTS.jsonl lines are `r1lab prompts` output ({"prompt", "reference"}). The accuracy reward is r1lab's
rule for the R1-Zero format: the last closed <answer> after the last </think>, equal to the reference.
"""
import argparse
import json
import re
import time

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import GRPOConfig, GRPOTrainer


def answer_of(text):
    if "</think>" not in text:
        return None
    tags = re.findall(r"<answer>(.*?)</answer>", text.rsplit("</think>", 1)[1], flags=re.S)
    return tags[-1].strip() if tags else None


class Timer:
    def __init__(self):
        self.generate = 0.0
        self.reward = 0.0

    def wrap(self, function, field):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(self, field, getattr(self, field) + time.perf_counter() - start)
        return timed


class StepTimes(TrainerCallback):
    def __init__(self, timer):
        self.timer = timer
        self.steps = []
        self.started = None

    def on_step_begin(self, args, state, control, **kwargs):
        self.timer.generate = self.timer.reward = 0.0
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        total = time.perf_counter() - self.started
        self.steps.append({"seconds": total, "rollout_s": self.timer.generate, "reward_s": self.timer.reward,
                           "update_s": total - self.timer.generate - self.timer.reward})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("prompts")
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--prompts-per-step", type=int, required=True)
    parser.add_argument("--group-size", type=int, required=True)
    parser.add_argument("--max-new-tokens", type=int, required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())

    rows = [json.loads(line) for line in open(args.prompts, encoding="utf-8")]
    dataset = Dataset.from_list([{"prompt": r["prompt"], "reference": r["reference"]} for r in rows])
    timer = Timer()

    def accuracy(completions, reference, **_):
        return [1.0 if answer_of(c) == r else 0.0 for c, r in zip(completions, reference)]

    config = GRPOConfig(
        output_dir=args.out + ".trl", per_device_train_batch_size=args.prompts_per_step * args.group_size,
        num_generations=args.group_size, max_completion_length=args.max_new_tokens, learning_rate=args.lr,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0, max_steps=args.steps,
        temperature=1.0, top_p=1.0, beta=0.0, loss_type="dapo", scale_rewards="group", num_iterations=1,
        gradient_accumulation_steps=1, logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, bf16=False,
        seed=args.seed, dataloader_num_workers=0, shuffle_dataset=False)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32)
    model.generate = timer.wrap(model.generate, "generate")
    times = StepTimes(timer)
    trainer = GRPOTrainer(model=model, reward_funcs=[timer.wrap(accuracy, "reward")], args=config, train_dataset=dataset,
                          processing_class=tokenizer, callbacks=[times])
    trainer.train()
    rewards = [h.get("reward") for h in trainer.state.log_history if "reward" in h]
    lengths = [h.get("completions/mean_length") for h in trainer.state.log_history if "completions/mean_length" in h]
    for step, reward, length in zip(times.steps, rewards, lengths):
        step["reward"], step["response_length_mean"] = reward, length
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"steps": times.steps, "threads": torch.get_num_threads()}, f, indent=1)


if __name__ == "__main__":
    main()
