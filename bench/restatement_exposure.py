#!/usr/bin/env python3
"""How many problems would reward copying the question back, without r1lab's restated-question check.

For every problem of MATH-500 and MATH train, boxes each $...$ span of the statement (and each side of an
equation in one) as an answer and grades it with `r1lab grade`, question attached. A problem counts when
one of those copies equals its reference by value and r1lab refuses it as a restatement: a grader without
the check would give the copy full credit (and GRPO full reward). Prints the counts and a few examples.

    python3 bench/restatement_exposure.py [--r1lab build/r1lab] [--data-dir ../shared/data]
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path


def problems(data_dir):
    for line in open(data_dir / "math500" / "test.jsonl"):
        record = json.loads(line)
        yield "math500", record["unique_id"], record["problem"], record["answer"]
    for i, record in enumerate(json.load(open(data_dir / "train" / "math" / "deepscaler_math_train.json"))):
        if record.get("answer"):
            yield "math_train", str(i), record["problem"], record["answer"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--r1lab", default="build/r1lab")
    parser.add_argument("--data-dir", default=os.environ.get("R1LAB_DATA", "../shared/data"))
    args = parser.parse_args()
    cases, totals = [], {}
    for source, pid, statement, reference in problems(Path(args.data_dir)):
        totals[source] = totals.get(source, 0) + 1
        copies = set()
        for span in re.findall(r"\$([^$]+)\$", statement):
            copies.add(span.strip())
            if "=" in span:
                copies.update(side.strip() for side in span.split("=") if side.strip())
        for copy in sorted(copies):
            cases.append({"source": source, "id": pid, "question": statement, "reference": reference,
                          "completion": "\\boxed{%s}" % copy})
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
        out.write("".join(json.dumps(c) + "\n" for c in cases))
    verdicts = subprocess.run([args.r1lab, "grade", "--think", "none", "--cases", out.name], check=True,
                              capture_output=True, text=True).stdout.splitlines()
    os.unlink(out.name)
    exposed = {}
    for case, line in zip(cases, verdicts):
        if "restates" in json.loads(line)["reason"]:
            exposed.setdefault(case["source"], {}).setdefault(case["id"], case)
    for source, total in totals.items():
        hits = exposed.get(source, {})
        print("%-10s %4d of %5d problems (%.1f%%) hold an expression equal to their answer" %
              (source, len(hits), total, 100 * len(hits) / total))
        for case in list(hits.values())[:3]:
            print("    %s: %s = %s" % (case["id"], case["completion"][7:-1], case["reference"]))


if __name__ == "__main__":
    main()
