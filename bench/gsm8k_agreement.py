#!/usr/bin/env python3
"""Per-sample agreement of r1lab's grader with OpenAI's verdicts on GSM8K, and with Math-Verify.

OpenAI's grade-school-math repository publishes four GPT-3 solutions for each of the 1,319 GSM8K test
problems (6B and 175B, fine-tuned and with a verifier), each marked correct or not by OpenAI. This scores
each model's solutions with `r1lab score --task gsm8k --think none`, grades the same solutions with
Math-Verify (PyPI `math-verify`) in this process, and compares the three verdicts sample by sample.
Writes a JSON file of every disagreement and prints a Markdown table.

usage: .venv-peers/bin/python bench/gsm8k_agreement.py [--r1lab build/r1lab] [--data-dir ../shared/data]
       [--out out/gsm8k-peer] [--score-flags=--fallback-extraction]
"""
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_agreement import cached_math_verify, parse_arguments  # noqa: E402  (shared with the SkyThought bench)

MODELS = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"]


def main():
    args = parse_arguments("out/gsm8k-peer")
    data = Path(args.data_dir)
    solutions = [json.loads(line) for line in open(data / "model_outputs" / "openai_gsm8k" / "example_model_solutions.jsonl")]
    problems = [json.loads(line) for line in open(data / "train" / "gsm8k" / "test.jsonl")]
    # The solutions file is the test set in its order; r1lab's ids are the row numbers. Check rather than trust.
    if len(solutions) != len(problems):
        sys.exit("%d solutions for %d GSM8K test problems" % (len(solutions), len(problems)))
    for row, (solution, problem) in enumerate(zip(solutions, problems)):
        if solution["question"].split() != problem["question"].split():
            sys.exit("row %d: the solutions file and train/gsm8k/test.jsonl hold different questions" % row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "math_verify_cache.json"
    cache = json.load(open(cache_path)) if cache_path.exists() else {}
    rows, disagreements = [], []
    totals = {"samples": 0, "openai": 0, "r1lab": 0, "r1lab_openai": 0, "r1lab_mv": 0, "openai_mv": 0}
    for model in MODELS:
        samples = out / model / "samples.jsonl"
        samples.parent.mkdir(parents=True, exist_ok=True)
        with open(samples, "w") as f:
            for row, record in enumerate(solutions):
                f.write(json.dumps({"id": "gsm8k-%d" % row, "completion": record[model]["solution"]}) + "\n")
        run_dir = out / model / "run"
        subprocess.run([args.r1lab, "score", "--task", "gsm8k", "--think", "none", "--samples", str(samples),
                        "--out", str(run_dir), "--data-dir", args.data_dir] + args.score_flags.split(),
                       check=True, stdout=subprocess.DEVNULL)
        verdict_of = {v["id"]: v for v in map(json.loads, open(run_dir / "verdicts.jsonl"))}
        counts = dict.fromkeys(totals, 0)
        for row, record in enumerate(solutions):
            pid = "gsm8k-%d" % row
            mine = verdict_of[pid]
            theirs = bool(record[model]["is_correct"])
            reference = problems[row]["answer"].rsplit("####", 1)[1].strip()
            completion = record[model]["solution"]
            key = "%s/%s" % (model, pid)
            if args.skip_math_verify:
                mv, mv_extracted = theirs, ""
            else:
                mv, mv_extracted = cached_math_verify(cache, key, reference, completion)
            ok = mine["correct"]
            counts["samples"] += 1
            counts["openai"] += theirs
            counts["r1lab"] += ok
            counts["r1lab_openai"] += ok == theirs
            counts["r1lab_mv"] += ok == mv
            counts["openai_mv"] += theirs == mv
            if ok != theirs or ok != mv:
                disagreements.append({
                    "model": model, "id": pid, "reference": reference, "r1lab": ok, "r1lab_verdict": mine["verdict"],
                    "r1lab_extracted": mine["extracted"], "r1lab_reason": mine["reason"], "openai": theirs,
                    "math_verify": mv, "math_verify_extracted": mv_extracted, "tail": completion[-300:]})
        for key in totals:
            totals[key] += counts[key]
        rows.append((model, counts))
        json.dump(cache, open(cache_path, "w"))
    json.dump(disagreements, open(out / "disagreements.json", "w"), indent=1, ensure_ascii=False)

    def line(name, c):
        n = c["samples"]
        return "| %s | %d | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %.2f%% |" % (
            name, n, 100 * c["openai"] / n, 100 * c["r1lab"] / n, 100 * c["r1lab_openai"] / n,
            100 * c["r1lab_mv"] / n, 100 * c["openai_mv"] / n)

    print("| solutions | samples | OpenAI accuracy | r1lab accuracy | r1lab = OpenAI | r1lab = Math-Verify | OpenAI = Math-Verify |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model, c in rows:
        print(line(model, c))
    print(line("**all**", totals))
    print("\n%d samples with any disagreement -> %s" % (len(disagreements), out / "disagreements.json"))


if __name__ == "__main__":
    main()
