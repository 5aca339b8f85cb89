"""The reference the tokenizer tests compare with: Hugging Face `tokenizers` and transformers' Jinja chat
templates, run on the real data files. Writes JSONL for the C++ test to read.

  tokenizer_oracle.py ids TOKENIZER_JSON DATA_DIR OUT.jsonl
      every MATH-500 problem and solution, every GPQA Diamond question and answer, every SkyThought
      completion, plus texts with special tokens and non-NFC text; each line
      {"source", "text", "plain": ids (special tokens as text), "special": ids (tokenizers' default encode)}
  tokenizer_oracle.py llama3-variant TOKENIZER_JSON OUT_DIR
      writes OUT_DIR/tokenizer.json: the same vocabulary with Llama 3's split pattern (digits in threes),
      ignore_merges and a BOS-adding TemplateProcessing post-processor, the parts Llama 3 files differ in
  tokenizer_oracle.py chat TOKENIZER_DIR TEMPLATES_DIR OUT.jsonl
      conversations rendered by transformers' apply_chat_template with each template file;
      each line {"template": file name, "messages": [...], "add_generation_prompt", "text"}
  tokenizer_oracle.py compare MODEL_DIR TEXTS.json IDS.json
      exits 1 (saying where) unless transformers' AutoTokenizer of MODEL_DIR encodes each text of TEXTS.json
      (a list) to the ids listed in IDS.json (a list of lists, r1lab's): a tokenizer.json r1lab wrote must
      load there and agree
"""
import csv
import glob
import json
import os
import sys


def corpus(data_dir):
    with open(os.path.join(data_dir, "math500", "test.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            row = json.loads(line)
            yield f"math500[{i}].problem", row["problem"]
            yield f"math500[{i}].solution", row["solution"]
    with open(os.path.join(data_dir, "gpqa", "gpqa_diamond.csv"), encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            for field in ("Question", "Correct Answer", "Incorrect Answer 1", "Explanation"):
                yield f"gpqa[{i}].{field}", row[field]
    for path in sorted(glob.glob(os.path.join(data_dir, "model_outputs", "skythought", "*", "*.jsonl"))):
        name = os.path.relpath(path, data_dir)
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                for j, completion in enumerate(json.loads(line)["code"]):
                    yield f"{name}[{i}].code[{j}]", completion
    # Special tokens inside text, and text that NFC changes.
    yield "synthetic.chat", "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nfour</think>\n\n4<|im_end|><|endoftext|>"
    yield "synthetic.adjacent", "a<|im_end|><|im_end|> b <|endoftext|>x<|im_start|"
    yield "synthetic.nfd", "Cafe\u0301 re\u0301sume\u0301 A\u030a \u1100\u1161 \u212b"
    yield "synthetic.spaces", "x" + " " * 300 + "y\n\n\n \t \n" + "=" * 200 + "\r\n\r\n"


LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def write_llama3_variant(tokenizer_file, out_dir):
    with open(tokenizer_file, encoding="utf-8") as f:
        spec = json.load(f)
    spec["normalizer"] = None
    spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = LLAMA3_PATTERN
    spec["model"]["ignore_merges"] = True
    bos = "<|endoftext|>"
    spec["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {bos: {"id": bos, "ids": [151643], "tokens": [bos]}}}]}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)


def write_ids(tokenizer_file, data_dir, out_path):
    from tokenizers import Tokenizer
    plain = Tokenizer.from_file(tokenizer_file)
    plain.encode_special_tokens = True
    special = Tokenizer.from_file(tokenizer_file)
    items = list(corpus(data_dir))
    texts = [t for _, t in items]
    plain_ids = plain.encode_batch(texts, add_special_tokens=False)
    special_ids = special.encode_batch(texts, add_special_tokens=True)
    with open(out_path, "w", encoding="utf-8") as out:
        for (source, text), p, s in zip(items, plain_ids, special_ids):
            out.write(json.dumps({"source": source, "text": text, "plain": p.ids, "special": s.ids},
                                 ensure_ascii=False) + "\n")


CONVERSATIONS = [
    [{"role": "user", "content": "What is 1+1?"}],
    [{"role": "system", "content": "Think step by step."}, {"role": "user", "content": "Solve $x^2=4$."}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "<think>\nsay hello\n</think>\n\nHello!"},
     {"role": "user", "content": "Again, in French."}],
    [{"role": "system", "content": "S1"}, {"role": "user", "content": "U1"}, {"role": "system", "content": "S2"},
     {"role": "assistant", "content": "A1"}],
    [{"role": "user", "content": "multi\nline\n\n  text with </think> inside"}, {"role": "assistant", "content": "x</think>\n\ny"}],
    [{"role": "user", "content": ""}],
]


def write_chat(tokenizer_dir, templates_dir, out_path):
    from transformers import PreTrainedTokenizerFast
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(tokenizer_dir, "tokenizer.json"),
                                        bos_token="<｜begin▁of▁sentence｜>")
    with open(out_path, "w", encoding="utf-8") as out:
        for path in sorted(glob.glob(os.path.join(templates_dir, "*.jinja"))):
            with open(path, encoding="utf-8") as f:
                source = f.read()
            for messages in CONVERSATIONS:
                for add_generation_prompt in (True, False):
                    text = tokenizer.apply_chat_template(messages, chat_template=source, tokenize=False,
                                                         add_generation_prompt=add_generation_prompt)
                    out.write(json.dumps({"template": os.path.basename(path), "messages": messages,
                                          "add_generation_prompt": add_generation_prompt, "text": text},
                                         ensure_ascii=False) + "\n")


def compare(model_dir, texts_file, ids_file):
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with open(texts_file, encoding="utf-8") as f:
        texts = json.load(f)
    with open(ids_file, encoding="utf-8") as f:
        ours = json.load(f)
    for text, ids in zip(texts, ours, strict=True):
        theirs = tokenizer(text, add_special_tokens=True)["input_ids"]
        if theirs != ids:
            sys.exit(f"{text!r}: transformers {theirs}, r1lab {ids}")
        if tokenizer.decode(theirs) != text:
            sys.exit(f"{text!r} decodes to {tokenizer.decode(theirs)!r}")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ids":
        write_ids(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "llama3-variant":
        write_llama3_variant(sys.argv[2], sys.argv[3])
    elif mode == "chat":
        write_chat(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: tokenizer_oracle.py ids|llama3-variant|chat|compare ...")
