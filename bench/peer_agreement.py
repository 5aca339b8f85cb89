#!/usr/bin/env python3
"""Per-sample agreement of r1lab's grader with SkyThought's published verdicts and with Math-Verify.

Scores every SkyThought output file (MATH-500, AIME24, AMC23) with `r1lab score`, grades the same samples
with Math-Verify (PyPI `math-verify`) in this process, and compares the three verdicts sample by sample.
Writes a JSON file of every disagreement (for docs/grading-audit.md) and prints a Markdown table.

usage: .venv-peers/bin/python bench/peer_agreement.py --r1lab build/r1lab [--data-dir ../shared/data] [--out out/peer]
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

TASK_OF = {"math500": "math500", "aime24": "aime24", "amc23": "amc23"}


import logging
logging.disable(logging.CRITICAL)


def math_verify_verdict(reference, completion):
    from math_verify import parse, verify
    try:
        gold = parse("$" + reference + "$")
        pred = parse(completion)
        return bool(verify(gold, pred)), str(pred[1] if len(pred) > 1 else (pred[0] if pred else ""))
    except Exception as error:  # Math-Verify's own failures count as "wrong", as its users see them
        return False, "error: %s" % error


def parse_arguments(default_out):
    """The options every peer-agreement bench takes (this one and bench/gsm8k_agreement.py)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--r1lab", default="build/r1lab")
    parser.add_argument("--data-dir", default=os.environ.get("R1LAB_DATA", "../shared/data"))
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--skip-math-verify", action="store_true")
    parser.add_argument("--score-flags", default="", help="extra flags for r1lab score, e.g. --fallback-extraction")
    return parser.parse_args()


def cached_math_verify(cache, key, reference, completion):
    """Math-Verify's verdict and extraction, from `cache` (a dict saved between runs) when it holds `key`:
    Math-Verify is slow, and its verdicts do not change between runs."""
    if key not in cache:
        mv, extracted = math_verify_verdict(reference, completion)
        cache[key] = [mv, extracted]
    return tuple(cache[key])


def main():
    args = parse_arguments("out/peer")
    root = Path(args.data_dir) / "model_outputs" / "skythought"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, disagreements = [], []
    cache_path = out / "math_verify_cache.json"
    cache = json.load(open(cache_path)) if cache_path.exists() else {}
    totals = {"samples": 0, "r1lab_sky": 0, "r1lab_mv": 0, "sky_mv": 0}
    for path in sorted(root.glob("*/*.jsonl")):
        bench = path.stem
        if bench not in TASK_OF:
            continue
        model = path.parent.name
        run_dir = out / model / bench
        subprocess.run([args.r1lab, "score", "--task", TASK_OF[bench], "--samples", str(path), "--out", str(run_dir),
                        "--data-dir", args.data_dir] + args.score_flags.split(), check=True, stdout=subprocess.DEVNULL)
        ours = [json.loads(line) for line in open(run_dir / "verdicts.jsonl")]
        records = [json.loads(line) for line in open(path)]
        counts = {"samples": 0, "r1lab_sky": 0, "r1lab_mv": 0, "sky_mv": 0}
        # Pair each SkyThought record with r1lab's verdict for the same problem: by question text (as r1lab
        # matches them), else by the record's idx in dataset order.
        ids = [v["id"] for v in ours]
        verdict_of = {v["id"]: v for v in ours}
        statements = {}
        for line in subprocess.run([args.r1lab, "prompts", "--task", TASK_OF[bench], "--data-dir", args.data_dir],
                                   check=True, capture_output=True, text=True).stdout.splitlines():
            item = json.loads(line)
            statements[" ".join(item["prompt"].rsplit("\n", 1)[0].split())] = item["id"]
        for record in records:
            pid = statements.get(" ".join(record["question"].split()))
            if pid is None:
                pid = ids[record["idx"]]
            mine = verdict_of[pid]
            sky = bool(record["score"][0])
            if args.skip_math_verify:
                mv, mv_extracted = sky, ""
            else:
                mv, mv_extracted = cached_math_verify(cache, "%s/%s/%s" % (model, bench, pid), str(record["answer"]),
                                                      record["code"][0])
            ok = mine["correct"]
            counts["samples"] += 1
            counts["r1lab_sky"] += ok == sky
            counts["r1lab_mv"] += ok == mv
            counts["sky_mv"] += sky == mv
            if ok != sky or ok != mv:
                disagreements.append({
                    "model": model, "bench": bench, "id": pid, "reference": str(record["answer"]),
                    "r1lab": ok, "r1lab_verdict": mine["verdict"], "r1lab_extracted": mine["extracted"],
                    "r1lab_reason": mine["reason"], "skythought": sky, "skythought_extracted": record["pred"][0],
                    "math_verify": mv, "math_verify_extracted": mv_extracted,
                    "tail": record["code"][0][-300:]})
        for key in totals:
            totals[key] += counts[key]
        rows.append((model, bench, counts))
        print("%-38s %-8s n=%4d  r1lab=sky %5.1f%%  r1lab=MV %5.1f%%  sky=MV %5.1f%%" % (
            model, bench, counts["samples"], 100 * counts["r1lab_sky"] / counts["samples"],
            100 * counts["r1lab_mv"] / counts["samples"], 100 * counts["sky_mv"] / counts["samples"]), file=sys.stderr)
    json.dump(disagreements, open(out / "disagreements.json", "w"), indent=1, ensure_ascii=False)
    json.dump(cache, open(cache_path, "w"))
    n = totals["samples"]
    print("| model | bench | samples | r1lab = SkyThought | r1lab = Math-Verify | SkyThought = Math-Verify |")
    print("|---|---|---:|---:|---:|---:|")
    for model, bench, c in rows:
        print("| %s | %s | %d | %.1f%% | %.1f%% | %.1f%% |" % (model, bench, c["samples"], 100 * c["r1lab_sky"] / c["samples"],
                                                          100 * c["r1lab_mv"] / c["samples"], 100 * c["sky_mv"] / c["samples"]))
    print("| **all** | | %d | %.2f%% | %.2f%% | %.2f%% |" % (n, 100 * totals["r1lab_sky"] / n, 100 * totals["r1lab_mv"] / n,
                                                         100 * totals["sky_mv"] / n))
    print("\n%d samples with any disagreement -> %s" % (len(disagreements), out / "disagreements.json"))


if __name__ == "__main__":
    main()
