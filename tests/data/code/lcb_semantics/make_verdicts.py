"""Fills in LiveCodeBench's verdicts for the programs of cases.json (not run by CI).

The oracle is LiveCodeBench's own checker as lighteval ships a copy of it
(lighteval/tasks/tasks/lcb/codegen_metrics.py: check_correctness -> run_test -> grade_stdio /
grade_call_based). Install it into a throwaway environment, away from the repository:

    python3 -m venv /tmp/lcb_oracle
    /tmp/lcb_oracle/bin/pip install numpy tqdm
    /tmp/lcb_oracle/bin/pip install --no-deps lighteval
    /tmp/lcb_oracle/bin/python tests/data/code/lcb_semantics/make_verdicts.py

Only the module file is loaded (not lighteval's package, whose imports are heavy). Each program runs
in the checker's own worker process with its 6 s timeout, so a run takes about 20 s. The script
rewrites the lcb_result and lcb_passes fields of every case and the "oracle" record; everything else
in cases.json is kept as it is.
"""

import importlib.metadata
import importlib.util
import json
import pathlib
import platform
import sys

HERE = pathlib.Path(__file__).resolve().parent
TIMEOUT_SECONDS = 6   # LiveCodeBench's default, as r1lab's livecodebench task uses


def load_checker():
    spec = importlib.util.find_spec("lighteval")
    if spec is None or spec.origin is None:
        sys.exit("lighteval is not installed in this Python (see this file's docstring)")
    path = pathlib.Path(spec.origin).parent / "tasks" / "tasks" / "lcb" / "codegen_metrics.py"
    if not path.exists():
        sys.exit(f"{path} is missing: this lighteval keeps its LiveCodeBench checker elsewhere")
    module_spec = importlib.util.spec_from_file_location("lcb_codegen_metrics", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module, path


def main():
    checker, path = load_checker()
    cases_path = HERE / "cases.json"
    document = json.loads(cases_path.read_text(encoding="utf-8"))
    for case in document["cases"]:
        code = (HERE / (case["name"] + ".py")).read_text(encoding="utf-8")
        input_output = {"inputs": [t["input"] for t in case["tests"]], "outputs": [t["output"] for t in case["tests"]]}
        if case.get("function"):
            input_output["fn_name"] = case["function"]
        sample = {"input_output": json.dumps(input_output)}
        # evaluate_generations_by_problem runs check_correctness and normalises numpy results to Python ones.
        [result] = checker.evaluate_generations_by_problem([[code], sample, TIMEOUT_SECONDS])
        result = [bool(r) if isinstance(r, bool) else int(r) for r in result]
        case["lcb_result"] = result
        case["lcb_passes"] = all(r > 0 for r in result)   # compute_metrics_from_results: np.all(gen > 0)
        print(f"{case['name']:32} {result}", flush=True)
    version = importlib.metadata.version("lighteval")
    document["oracle"] = {
        "checker": f"lighteval {version}, {path.relative_to(path.parents[4])}",
        "python": platform.python_version(),
        "timeout_seconds": TIMEOUT_SECONDS,
        "result_codes": "true: test passed; false: wrong answer (functional); -1: the whole run timed out or its "
                        "process died; -2: wrong answer (stdin); -3: time limit; -4: runtime or compile error",
    }
    cases_path.write_text(dump(document), encoding="utf-8")


def dump(document):
    """cases.json with one case a line, so that a diff shows which verdicts changed."""
    cases = document["cases"]
    lines = ["{"]
    lines += [f" {json.dumps(key)}: {json.dumps(document[key], ensure_ascii=False)}," for key in document if key != "cases"]
    lines.append(' "cases": [')
    lines += ["  " + json.dumps(case, ensure_ascii=False) + ("," if i + 1 < len(cases) else "") for i, case in enumerate(cases)]
    lines += [" ]", "}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
