"""Builds a LiveCodeBench code_generation_lite-format file from the R1-window data, for the C++ decoder test.

Reads livecodebench/lcb_2408_2501_public_tests_joined.jsonl from the data directory, and writes
<out>/livecodebench/code_generation_lite/test.jsonl with the first problems of each kind: public tests as
a JSON string, "private" tests (the public ones reversed, so they differ) packed as LiveCodeBench packs
them: base64(zlib(pickle(json string))). Usage: make_lcb_upstream_fixture.py DATA_DIR OUT_DIR
"""
import base64
import json
import os
import pickle
import sys
import zlib

data_dir, out_dir = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(os.path.join(data_dir, "livecodebench", "lcb_2408_2501_public_tests_joined.jsonl"))]
chosen = [r for r in rows if r["public_tests"][0]["testtype"] == "stdin"][:3] + \
         [r for r in rows if r["public_tests"][0]["testtype"] == "functional"][:2]
folder = os.path.join(out_dir, "livecodebench", "code_generation_lite")
os.makedirs(folder, exist_ok=True)
with open(os.path.join(folder, "test.jsonl"), "w") as out:
    for r in chosen:
        private = list(reversed(r["public_tests"]))
        packed = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(private)))).decode()
        func = r["starter_code"].split("def ")[1].split("(")[0] if r["starter_code"] else ""
        out.write(json.dumps({
            "question_title": r["question_id"], "question_content": r["question_content"],
            "platform": "leetcode" if r["question_id"].isdigit() else "atcoder",
            "question_id": r["question_id"], "contest_id": r["contest_id"],
            "contest_date": r["contest_date"] + "T00:00:00" if len(r["contest_date"]) == 10 else r["contest_date"],
            "starter_code": r["starter_code"], "difficulty": "easy",
            "public_test_cases": json.dumps(r["public_tests"]), "private_test_cases": packed,
            "metadata": json.dumps({"func_name": func} if func else {}),
        }) + "\n")
print(len(chosen))
