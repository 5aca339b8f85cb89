#!/usr/bin/env bash
# r1lab vs HF tokenizers encode throughput on one core (taskset), side by side in one run, on every
# MATH-500 problem and solution, GPQA Diamond question and SkyThought completion (the tokenizer test's
# corpus, about 19 MB), with the Qwen tokenizer. Prints both and the ratio. Needs .venv (scripts/setup_python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target tokenizer_throughput >/dev/null
tokenizer=../shared/data/tokenizers/qwen3_tokenizer_npm
corpus=$(mktemp --suffix=.jsonl)
trap 'rm -f "$corpus"' EXIT
.venv/bin/python - "$corpus" <<'PY'
import json, sys
sys.path.insert(0, "tests/support")
from tokenizer_oracle import corpus
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for _, text in corpus("../shared/data"):
        out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
PY
ours=$(R1LAB_TOKENIZER=$tokenizer R1LAB_TOKENIZER_CORPUS=$corpus taskset -c 0 build/bench/tokenizer_throughput \
       --benchmark_format=json 2>/dev/null | python3 -c 'import json,sys
b={x["name"].split("/")[0]: x for x in json.load(sys.stdin)["benchmarks"]}
e=b["BM_EncodeCorpus"]
print(json.dumps({"MB_per_s": e["MB_per_s"], "tokens": e["tokens"], "texts": e["texts"], "load_ms": b["BM_LoadTokenizerJson"]["real_time"]}))')
peer=$(taskset -c 0 .venv/bin/python bench/tokenizer_peer.py $tokenizer/tokenizer.json "$corpus")
echo "r1lab:         $ours"
echo "hf tokenizers: $peer"
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert ours["tokens"] == peer["tokens"], "the two tokenizers disagree on the token count"
print("ratio r1lab / tokenizers encode MB/s: %.2fx (same %d tokens)" % (ours["MB_per_s"] / peer["MB_per_s"], ours["tokens"]))
PY
