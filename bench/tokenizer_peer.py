"""HF tokenizers (PyPI) encoding the same corpus on one thread: the peer of bench/tokenizer_throughput.cpp.
Uses encode_batch_fast (no offsets), its fastest path (encode() in a loop and encode_batch measured 20%
slower here).
Prints JSON {"MB_per_s", "tokens", "texts", "load_ms"}. Usage: tokenizer_peer.py TOKENIZER_JSON CORPUS_JSONL"""
import json
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

started = time.perf_counter()
tokenizer = Tokenizer.from_file(sys.argv[1])
load_ms = (time.perf_counter() - started) * 1000
texts = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")]
size = sum(len(t.encode("utf-8")) for t in texts)
tokens = sum(len(e.ids) for e in tokenizer.encode_batch_fast(texts))   # warm-up pass: fills the word cache
passes, started = 0, time.perf_counter()
while True:
    tokenizer.encode_batch_fast(texts)
    passes += 1
    elapsed = time.perf_counter() - started
    if elapsed >= 5.0:
        break
print(json.dumps({"MB_per_s": passes * size / 1e6 / elapsed, "tokens": tokens, "texts": len(texts), "load_ms": load_ms}))
