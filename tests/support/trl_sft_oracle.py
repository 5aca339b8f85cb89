"""The reference our C++ SFT trainer is compared with: TRL's SFTTrainer on CPU in fp32.

Two modes:

  trl_sft_oracle.py run MODEL_DIR DATA.jsonl OUT.json [--steps 50] [--batch-size 4] [--lr 1e-4]
        [--schedule cosine|constant|linear] [--warmup-steps 0] [--weight-decay 0.0] [--max-grad-norm 1.0]
        [--adam-beta1 0.9] [--adam-beta2 0.999] [--adam-eps 1e-8] [--max-length 1024] [--threads 2]

      DATA.jsonl: one {"prompt": str, "completion": str} per line. Each line becomes TRL's conversational
      prompt-completion example (a user turn, then an assistant turn), so TRL renders it with the model's chat
      template and trains on the completion tokens only. Runs exactly --steps optimizer steps over the file in
      file order (cycling through it again as needed) and writes OUT.json:
        steps:    one entry per optimizer step: step (1-based), loss (the exact float32 loss the step
                  back-propagated: summed completion-token NLL / number of completion tokens in the batch),
                  grad_norm (the exact pre-clipping global L2 norm, what transformers logs as grad_norm),
                  lr (the learning rate the optimizer used on this step), seconds (wall time of the step:
                  forward, backward, clipping, optimizer and scheduler step; data loading excluded),
                  forward_backward_seconds, tokens (non-padding tokens in the batch), loss_tokens (tokens whose
                  next-token prediction is in the loss), example_indices (rows of the prepared dataset in the batch),
                  source_lines (the same rows as 0-based indices of the non-empty lines of DATA.jsonl; they differ
                  only when TRL dropped examples, see settings.dropped_source_lines),
                  num_items_in_batch (transformers' loss divisor, = loss_tokens), and logged_* (what transformers put
                  in its own log for the step: a cross-check, equal to the exact values since it logs every step).
        examples: for the first 8 prepared examples, input_ids (what TRL feeds the model, before padding),
                  completion_mask (1 where the token is a label in the loss, else 0) and source_line.
        trl_version, transformers_version, torch_version,
        settings: the SFTConfig values and TRL/transformers behaviours that a reimplementation must match,
        sft_config: the full SFTConfig as transformers serialises it; trainer_logs: transformers' log entries.

  trl_sft_oracle.py loss-and-grads MODEL_DIR IN.json OUT.safetensors [--threads 2]

      IN.json: {"input_ids": [[...]], "attention_mask": [[...]] (optional, all ones by default),
                "labels": [[...]] (-100 where there is no loss)}; right padding.
      Loads the model with transformers in fp32 (sdpa attention), runs one forward with the labels (the
      model's own causal-LM loss: labels shifted by one, mean over all non -100 labels of the batch) and one
      backward, and writes OUT.safetensors with "loss" (float32, shape [1]) and the gradient of every parameter
      under its Hugging Face name (float32, contiguous); metadata loss_tokens = count of labels[:, 1:] != -100.
      Tied weights appear once, under the name named_parameters() gives them (for Qwen2:
      "model.embed_tokens.weight", no "lm_head.weight").
      Position ids are the default 0..T-1 of every row, which for right padding counts the real tokens.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

# No network, no telemetry, no tokenizer thread pool: this is a local, reproducible reference run.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

N_EXAMPLES_DUMPED = 8
MAIN_STEP_FIELDS = ("step", "loss", "grad_norm", "lr", "seconds", "tokens", "loss_tokens")

# --schedule -> transformers' lr_scheduler_type. transformers' "constant" ignores warmup_steps altogether, so
# "constant" maps to "constant_with_warmup", which is the same as "constant" when warmup_steps is 0.
SCHEDULES = {"cosine": "cosine", "constant": "constant_with_warmup", "linear": "linear"}


def set_threads(n):
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set once, before any inter-op work
        pass


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("prompt"), str) or not isinstance(row.get("completion"), str):
                sys.exit(f"{path}:{n}: expected {{\"prompt\": str, \"completion\": str}}")
            rows.append(row)
    if not rows:
        sys.exit(f"{path}: no examples")
    return rows


def load_model(model_dir):
    from transformers import AutoModelForCausalLM

    # fp32 and sdpa explicitly, rather than whatever the config or a default would pick.
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")


# ---------------------------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------------------------

def make_trainer_class():
    from torch.utils.data import SequentialSampler
    from transformers import TrainerCallback
    from trl import SFTTrainer

    class Recorder(TrainerCallback):
        """Times each optimizer step and reads the learning rate the optimizer is about to use."""

        def __init__(self, trainer):
            self.trainer = trainer

        def on_step_begin(self, args, state, control, **kwargs):
            # Called after the step's batch was fetched from the dataloader, before its forward.
            self.trainer._current = {"t0": time.perf_counter()}

        def on_pre_optimizer_step(self, args, state, control, **kwargs):
            # After clipping, right before optimizer.step(): the lr in the param groups is the one this step uses
            # (the scheduler is stepped after optimizer.step()). Both groups (decay / no decay) share it.
            lrs = {g["lr"] for g in self.trainer.optimizer.param_groups}
            assert len(lrs) == 1, lrs
            self.trainer._current["lr"] = lrs.pop()

        def on_step_end(self, args, state, control, **kwargs):
            cur = self.trainer._current
            cur["seconds"] = time.perf_counter() - cur.pop("t0")
            cur["step"] = state.global_step
            self.trainer.step_records.append(cur)
            self.trainer._current = None

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.trainer.trainer_logs.append({"step": state.global_step, **(logs or {})})

    class OracleSFTTrainer(SFTTrainer):
        """SFTTrainer that reads its data in file order and records exact per-step values."""

        def __init__(self, *args, **kwargs):
            self.step_records = []
            self.trainer_logs = []
            self._current = None
            self.seen_num_items_in_batch = []
            super().__init__(*args, **kwargs)
            self.add_callback(Recorder(self))
            # The sequence each step should see: dataset rows in order, restarting at row 0 after the last
            # (partial) batch of an epoch. Used to check that the sampler really is sequential.
            self._expected_rows = self._row_key_table()
            self._next_row = 0

        def _get_train_sampler(self, train_dataset=None):
            # transformers' default train sampler is a RandomSampler (seeded, but in an order our C++ trainer cannot
            # reproduce). The comparison needs both sides to see the same batches, so read in file order. Each epoch
            # restarts from the first example; with dataloader_drop_last=False the last batch of an epoch is short.
            # (training_step checks every batch against this order.)
            dataset = self.train_dataset if train_dataset is None else train_dataset
            return SequentialSampler(dataset)

        def _row_key_table(self):
            return [tuple(ids) for ids in self.train_dataset["input_ids"]]

        def training_step(self, model, inputs, num_items_in_batch=None):
            mask = inputs["attention_mask"]
            labels = inputs["labels"]
            # Check and record which prepared rows form this batch (unpadded input_ids must match row by row).
            indices = []
            n_rows = len(self._expected_rows)
            for b in range(inputs["input_ids"].shape[0]):
                real = tuple(inputs["input_ids"][b][mask[b].bool()].tolist())
                row = self._next_row
                assert real == self._expected_rows[row], f"batch row {b} is not dataset row {row}: sampler not sequential?"
                indices.append(row)
                self._next_row = (row + 1) % n_rows
            if self._next_row != 0 and len(indices) < self.args.per_device_train_batch_size:
                raise AssertionError("short batch in the middle of an epoch")
            cur = self._current
            cur["example_indices"] = indices
            cur["tokens"] = int(mask.sum())
            # A causal LM predicts token t+1 from position t, so label 0 of each row is never a target: the loss
            # counts labels[:, 1:] != -100, as transformers' num_items_in_batch does.
            cur["loss_tokens"] = int((labels[:, 1:] != -100).sum())
            if num_items_in_batch is not None:
                self.seen_num_items_in_batch.append(int(num_items_in_batch))
                cur["num_items_in_batch"] = int(num_items_in_batch)
            t0 = time.perf_counter()
            # Returns loss.detach() of exactly what was back-propagated (with gradient_accumulation_steps=1 there
            # is no extra scaling): sum of completion-token NLL / num_items_in_batch, in float32.
            loss = super().training_step(model, inputs, num_items_in_batch)
            cur["forward_backward_seconds"] = time.perf_counter() - t0
            cur["loss"] = loss.item()
            return loss

        def _get_grad_norm(self, model, grad_norm=None):
            # transformers passes in the norm that clip_grad_norm_ returned (the total L2 norm before clipping)
            # or, when max_grad_norm is 0, computes it without clipping. Record the exact value it then logs.
            grad_norm = super()._get_grad_norm(model, grad_norm=grad_norm)
            self._current["grad_norm"] = float(grad_norm.item() if torch.is_tensor(grad_norm) else grad_norm)
            return grad_norm

    return OracleSFTTrainer


def run(args):
    set_threads(args.threads)
    import datasets
    import transformers
    import trl
    from transformers import AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_warning()

    rows = read_jsonl(args.data)
    # Conversational prompt-completion form: TRL tokenizes apply_chat_template(prompt, add_generation_prompt=True)
    # and apply_chat_template(prompt + completion); the completion mask is everything after their common prefix.
    # source_line (0-based line among the non-empty lines) rides along untouched by TRL (the Trainer drops it
    # before collation) so that rows can be traced back to the file if TRL drops any.
    train = datasets.Dataset.from_list([
        {"prompt": [{"role": "user", "content": r["prompt"]}],
         "completion": [{"role": "assistant", "content": r["completion"]}],
         "source_line": n}
        for n, r in enumerate(rows)
    ])

    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    model = load_model(args.model_dir)

    out_dir = tempfile.mkdtemp(prefix="trl_sft_oracle_")  # required by TrainingArguments; nothing is saved there
    config = SFTConfig(
        output_dir=out_dir,
        use_cpu=True,
        seed=0,
        # Exactly --steps optimizer steps; the number of epochs follows from it.
        max_steps=args.steps,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=1,
        # The plain torch.optim.AdamW (not fused; on CPU it runs the single-tensor loop, the closest thing to a
        # straightforward per-parameter implementation). "adamw_torch_fused" would change rounding.
        optim="adamw_torch",
        learning_rate=args.lr,
        lr_scheduler_type=SCHEDULES[args.schedule],
        warmup_steps=args.warmup_steps,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        adam_beta1=args.adam_beta1,
        adam_beta2=args.adam_beta2,
        adam_epsilon=args.adam_eps,
        # Data: one example per row, right-padded to the longest in the batch, truncated to max_length.
        packing=False,
        padding_free=False,
        max_length=args.max_length,
        completion_only_loss=True,  # the default (None) picks the same for prompt-completion data; be explicit
        assistant_only_loss=False,
        loss_type="nll",
        dataloader_drop_last=False,
        dataloader_num_workers=0,
        # File order. The trainer subclass below returns a SequentialSampler itself; this (transformers >= 5.x)
        # says the same, so the order holds even if the subclass hook were ever bypassed.
        train_sampling_strategy="sequential",
        shuffle_dataset=False,
        # TRL's config turns bf16 on by default (when fp16 is off) and gradient checkpointing on by default:
        # switch both off, the reference is plain fp32 with stored activations. transformers 5.23 renamed
        # gradient_checkpointing to activation_checkpointing and copies the old (TRL default True) into the new
        # one unless the new one is set, so set the new name.
        bf16=False,
        fp16=False,
        activation_checkpointing=False,
        # No evaluation, no checkpoints, no external loggers; log every step (the logged values are a
        # cross-check of the exact ones recorded above).
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        logging_strategy="steps",
        logging_steps=1,
        disable_tqdm=True,
        push_to_hub=False,
    )

    Trainer = make_trainer_class()
    trainer = Trainer(model=model, args=config, train_dataset=train, processing_class=tokenizer)
    # transformers prints every log dict when tqdm is off; our own per-step summary is printed at the end instead.
    trainer.remove_callback(PrinterCallback)
    prepared = trainer.train_dataset
    n_prepared = len(prepared)
    source_lines = list(prepared["source_line"])
    dropped_lines = sorted(set(range(len(rows))) - set(source_lines))

    # Sanity: the optimizer is the plain AdamW and the two param groups are as expected.
    trainer.create_optimizer()
    opt = trainer.optimizer
    decay_names = set(trainer.get_decay_parameter_names(trainer.model))
    param_names = [n for n, p in trainer.model.named_parameters() if p.requires_grad]

    t_train = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - t_train

    steps = trainer.step_records
    assert len(steps) == args.steps, f"expected {args.steps} steps, recorded {len(steps)}"
    logs_by_step = {}
    for entry in trainer.trainer_logs:
        if "loss" in entry and "train_loss" not in entry:
            logs_by_step[entry["step"]] = entry
    for s in steps:
        log = logs_by_step.get(s["step"], {})
        for key in ("loss", "grad_norm", "learning_rate", "mean_token_accuracy", "entropy"):
            if key in log:
                s["logged_" + key] = log[key]

    examples = []
    for i in range(min(N_EXAMPLES_DUMPED, n_prepared)):
        ex = prepared[i]
        examples.append({
            "input_ids": list(ex["input_ids"]),
            "completion_mask": [0 if label == -100 else 1 for label in ex["labels"]],
            "source_line": ex["source_line"],
        })
    for s in steps:
        s["source_lines"] = [source_lines[i] for i in s["example_indices"]]

    base_opt = getattr(opt, "optimizer", opt)  # accelerate wraps it in an AcceleratedOptimizer
    # Per group, not opt.defaults: transformers sets weight_decay per group, and torch's class default (0.01) that
    # opt.defaults shows is never used.
    opt_groups = [{"params": len(g["params"]), "weight_decay": g["weight_decay"], "betas": list(g["betas"]),
                   "eps": g["eps"], "initial_lr": g.get("initial_lr", g["lr"]), "amsgrad": g["amsgrad"],
                   "maximize": g["maximize"], "foreach": g["foreach"], "fused": g["fused"]}
                  for g in base_opt.param_groups]
    settings = {
        "mode": "trl.SFTTrainer, CPU, float32, attn_implementation=sdpa",
        "steps": args.steps,
        "batch_size": args.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": config.learning_rate,
        "schedule": args.schedule,
        "lr_scheduler_type": str(getattr(config.lr_scheduler_type, "value", config.lr_scheduler_type)),
        "lr_scheduler_kwargs": config.lr_scheduler_kwargs,
        "warmup_steps": trainer.args.get_warmup_steps(args.steps),
        "weight_decay": config.weight_decay,
        "max_grad_norm": config.max_grad_norm,
        "adam_beta1": config.adam_beta1,
        "adam_beta2": config.adam_beta2,
        "adam_epsilon": config.adam_epsilon,
        "optim": str(getattr(config.optim, "value", config.optim)),
        "optimizer_class": f"{type(base_opt).__module__}.{type(base_opt).__name__}",
        "optimizer_param_groups": opt_groups,
        # transformers applies weight decay to every parameter except biases and norm weights.
        "weight_decay_params": [n for n in param_names if n in decay_names],
        "no_weight_decay_params": [n for n in param_names if n not in decay_names],
        "max_length": config.max_length,
        "truncation_mode": config.truncation_mode,
        "packing": config.packing,
        "padding_free": config.padding_free,
        "pad_to_multiple_of": config.pad_to_multiple_of,
        "padding_side": "right",
        "pad_token": tokenizer.pad_token,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token": tokenizer.eos_token,
        "completion_only_loss": trainer.completion_only_loss,
        "assistant_only_loss": config.assistant_only_loss,
        "loss_type": config.loss_type,
        "label_smoothing_factor": config.label_smoothing_factor,
        "model_accepts_loss_kwargs": trainer.model_accepts_loss_kwargs,
        "loss_normalisation": "sum of completion-token NLL / num_items_in_batch (= count of labels[:, 1:] != -100 "
                              "in the step's batch), i.e. a token-level mean over the whole batch",
        "average_tokens_across_devices": config.average_tokens_across_devices,
        "dataloader_drop_last": config.dataloader_drop_last,
        "sampler": "SequentialSampler (file order; each epoch restarts at the first example)",
        "train_sampling_strategy": config.train_sampling_strategy,
        "shuffle_dataset": config.shuffle_dataset,
        "seed": config.seed,
        "bf16": config.bf16,
        "fp16": config.fp16,
        "activation_checkpointing": config.activation_checkpointing,
        "gradient_checkpointing": config.gradient_checkpointing,
        "use_cpu": config.use_cpu,
        "torch_threads": torch.get_num_threads(),
        "examples_in_file": len(rows),
        # TRL drops examples with no loss token left after truncation to max_length; then row i of the prepared
        # dataset is no longer line i of the file.
        "examples_after_preparation": n_prepared,
        "dropped_source_lines": dropped_lines,
        "num_items_in_batch_passed": bool(trainer.seen_num_items_in_batch),
        "train_seconds_total": train_seconds,
    }

    out = {
        # The fields the brief asks for first, then the extra ones (forward_backward_seconds, example_indices, ...).
        "steps": [{**{k: s[k] for k in MAIN_STEP_FIELDS}, **{k: v for k, v in s.items() if k not in MAIN_STEP_FIELDS}}
                  for s in steps],
        "examples": examples,
        "trl_version": trl.__version__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "settings": settings,
        "sft_config": json.loads(json.dumps(config.to_dict(), default=str)),
        "trainer_logs": trainer.trainer_logs,
    }
    pathlib.Path(args.out).write_text(json.dumps(out, indent=1))
    shutil.rmtree(out_dir, ignore_errors=True)
    for s in steps:
        print(f"step {s['step']:4d}  loss {s['loss']:.6f}  grad_norm {s['grad_norm']:.6f}  lr {s['lr']:.3e}  "
              f"tokens {s['tokens']:5d}  loss_tokens {s['loss_tokens']:5d}  {s['seconds']:.3f}s")
    print(args.out)


# ---------------------------------------------------------------------------------------------------------------
# loss-and-grads
# ---------------------------------------------------------------------------------------------------------------

def loss_and_grads(args):
    set_threads(args.threads)
    from safetensors.torch import save_file

    spec = json.loads(pathlib.Path(args.input).read_text())
    input_ids = torch.tensor(spec["input_ids"], dtype=torch.long)
    attention_mask = torch.tensor(spec.get("attention_mask") or [[1] * len(r) for r in spec["input_ids"]],
                                  dtype=torch.long)
    labels = torch.tensor(spec["labels"], dtype=torch.long)
    assert input_ids.shape == attention_mask.shape == labels.shape, "input_ids, attention_mask, labels differ in shape"

    model = load_model(args.model_dir)
    # eval(): no dropout (Qwen2/Llama have none anyway), so the result is deterministic; gradients still flow.
    model.eval()
    model.zero_grad(set_to_none=True)
    # No position_ids: the model uses 0..T-1 for every row, which for right padding counts the real tokens.
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, use_cache=False)
    loss = out.loss
    loss.backward()

    tensors = {"loss": loss.detach().float().reshape(1).contiguous()}
    missing = []
    # named_parameters() lists a tied weight once (e.g. model.embed_tokens.weight, which is also lm_head.weight);
    # its gradient is the sum of both uses.
    for name, p in model.named_parameters():
        if p.grad is None:
            missing.append(name)
            grad = torch.zeros_like(p, dtype=torch.float32)
        else:
            grad = p.grad.detach().float()
        tensors[name] = grad.contiguous()
    if missing:
        print(f"warning: no gradient for {missing}; written as zeros", file=sys.stderr)
    loss_tokens = int((labels[:, 1:] != -100).sum())
    save_file(tensors, args.output, metadata={"loss_tokens": str(loss_tokens), "missing_grads": ",".join(missing)})
    print(f"loss {loss.item():.8f}  loss_tokens {loss_tokens}  tensors {len(tensors)}  -> {args.output}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)

    r = sub.add_parser("run", help="train with trl.SFTTrainer and record every step")
    r.add_argument("model_dir")
    r.add_argument("data", help="JSONL of {prompt, completion}")
    r.add_argument("out", help="output JSON")
    r.add_argument("--steps", type=int, default=50)
    r.add_argument("--batch-size", type=int, default=4)
    r.add_argument("--lr", type=float, default=1e-4)
    r.add_argument("--schedule", choices=sorted(SCHEDULES), default="cosine")
    r.add_argument("--warmup-steps", type=int, default=0)
    r.add_argument("--weight-decay", type=float, default=0.0)
    r.add_argument("--max-grad-norm", type=float, default=1.0)
    r.add_argument("--adam-beta1", type=float, default=0.9)
    r.add_argument("--adam-beta2", type=float, default=0.999)
    r.add_argument("--adam-eps", type=float, default=1e-8)
    r.add_argument("--max-length", type=int, default=1024)
    r.add_argument("--threads", type=int, default=2)

    g = sub.add_parser("loss-and-grads", help="one forward+backward with transformers; write loss and gradients")
    g.add_argument("model_dir")
    g.add_argument("input", help="IN.json with input_ids, attention_mask, labels")
    g.add_argument("output", help="OUT.safetensors")
    g.add_argument("--threads", type=int, default=2)

    args = parser.parse_args()
    if args.mode == "run":
        run(args)
    else:
        loss_and_grads(args)


if __name__ == "__main__":
    main()
