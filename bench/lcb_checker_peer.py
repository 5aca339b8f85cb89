#!/usr/bin/env python3
"""LiveCodeBench's own checker on the jobs that r1lab's C++ bench writes: executions per second.

The peer is the checker as lighteval ships a copy of it (lighteval/tasks/tasks/lcb/codegen_metrics.py),
run the way LiveCodeBench runs it: evaluate_generations hands the problems to a ProcessPoolExecutor of
num_process_evaluate workers, and each program runs in check_correctness's own multiprocessing.Process
with the 6 s timeout. scripts/install_peers.sh puts it in a throwaway environment:

    scripts/install_peers.sh      # creates ${R1LAB_LCB_PEER_VENV:-/tmp/r1lab-lcb-peer}
    /tmp/r1lab-lcb-peer/bin/python bench/lcb_checker_peer.py JOBS.jsonl --workers 2 [--repeats 3]

JOBS.jsonl holds one job a line: {"id", "code" (the program without LiveCodeBench's import prelude,
which the checker adds itself), "input_output" (a JSON string: inputs, outputs and, for functional
problems, fn_name)}. Only the module file is loaded, not lighteval's package, whose imports are heavy.
Prints one JSON line: programs, executions (tests the checker reported on in one repeat), the best wall
time of the repeats, executions per second and how many programs did not pass all their tests.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import sys
import time

TIMEOUT_SECONDS = 6   # LiveCodeBench's default, as r1lab's livecodebench task uses
MODULE_NAME = "lcb_codegen_metrics"


def load_checker():
    spec = importlib.util.find_spec("lighteval")
    if spec is None or spec.origin is None:
        sys.exit("lighteval is not installed in this Python (see this file's docstring)")
    path = pathlib.Path(spec.origin).parent / "tasks" / "tasks" / "lcb" / "codegen_metrics.py"
    if not path.exists():
        sys.exit(f"{path} is missing: this lighteval keeps its LiveCodeBench checker elsewhere")
    module_spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(module_spec)
    # The pool pickles evaluate_generations_by_problem by module name: the workers must find it there.
    sys.modules[MODULE_NAME] = module
    module_spec.loader.exec_module(module)
    return module


def read_jobs(path):
    jobs = []
    for number, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        job = json.loads(line)
        missing = {"id", "code", "input_output"} - job.keys()
        if missing:
            sys.exit(f"{path}:{number}: missing {', '.join(sorted(missing))}")
        if not isinstance(job["input_output"], str):
            sys.exit(f"{path}:{number}: input_output must be a JSON string, as in LiveCodeBench's samples")
        jobs.append(job)
    if not jobs:
        sys.exit(f"{path}: no jobs")
    return jobs


def check_all(checker, jobs, workers):
    """One pass over every job; returns (seconds, results by job index)."""
    # One program per problem entry, as LiveCodeBench with n=1: the C++ bench schedules programs, so
    # two jobs of the same problem stay two pool tasks instead of running one after the other.
    samples = [{"input_output": job["input_output"]} for job in jobs]
    generations = [[job["code"]] for job in jobs]
    start = time.perf_counter()
    results = checker.evaluate_generations(samples, generations, num_process_evaluate=workers,
                                           timeout=TIMEOUT_SECONDS)
    return time.perf_counter() - start, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("jobs", help="JSONL file of {id, code, input_output}")
    parser.add_argument("--workers", type=int, required=True, help="num_process_evaluate")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.workers < 1 or args.repeats < 1:
        parser.error("--workers and --repeats must be at least 1")

    # Programs under test and the checker's own "timeout occurred" print to file descriptor 1 from
    # the checker's child processes; send all of that to stderr so stdout is the one JSON line.
    report = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # evaluate_generations draws a tqdm bar per pass, which only clutters stderr; tqdm reads this
    # variable when it is imported, so it is set before the checker is loaded.
    os.environ.setdefault("TQDM_DISABLE", "1")

    checker = load_checker()
    jobs = read_jobs(args.jobs)
    best, best_results = None, None
    for _ in range(args.repeats):
        seconds, results = check_all(checker, jobs, args.workers)
        if best is None or seconds < best:
            best, best_results = seconds, results

    # evaluate_generations returns {job index: [results of its one program]}; a program passes when
    # every entry is > 0 (compute_metrics_from_results: np.all(gen > 0); True counts as 1).
    outcomes = [best_results[i][0] for i in range(len(jobs))]
    failed = [(job["id"], outcome) for job, outcome in zip(jobs, outcomes) if not all(r > 0 for r in outcome)]
    for job_id, outcome in failed:
        print(f"{job_id} failed: {outcome}", file=sys.stderr)
    executions = sum(len(outcome) for outcome in outcomes)
    json.dump({"checker": f"lighteval {importlib.metadata.version('lighteval')} lcb codegen_metrics",
               "workers": args.workers, "programs": len(jobs), "executions": executions, "seconds": best,
               "executions_per_s": executions / best, "failures": len(failed)}, report)
    report.write("\n")
    report.close()


if __name__ == "__main__":
    main()
