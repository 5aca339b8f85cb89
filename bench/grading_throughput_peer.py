#!/usr/bin/env python3
"""Math-Verify's grading throughput on the same inputs as bench/grading_throughput.cpp, one core:
every MATH-500 sample of the SkyThought files, parse(gold) + parse(completion) + verify. Prints JSON."""
import json
import logging
import os
import sys
import time
from pathlib import Path

logging.disable(logging.CRITICAL)
from math_verify import parse, verify  # noqa: E402

root = Path(os.environ.get("R1LAB_DATA", "../shared/data")) / "model_outputs" / "skythought"
cases = []
for path in sorted(root.glob("*/math500.jsonl")):
    for line in open(path):
        record = json.loads(line)
        cases.append((record["answer"], record["code"][0]))
slowest = 0.0
start = time.perf_counter()
for reference, completion in cases:
    t = time.perf_counter()
    try:
        verify(parse("$" + reference + "$"), parse(completion))
    except Exception:
        pass
    slowest = max(slowest, time.perf_counter() - t)
elapsed = time.perf_counter() - start
json.dump({"samples": len(cases), "seconds": elapsed, "samples_per_s": len(cases) / elapsed,
           "slowest_call_ms": slowest * 1000}, sys.stdout)
print()
