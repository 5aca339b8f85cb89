#!/usr/bin/env python3
"""The peer of r1lab's eval overhead benchmark: the official `openai` client, driven by asyncio the usual
way (AsyncOpenAI, a semaphore bounding concurrent requests), sending the same chat requests to the same
loopback server. It only sends and receives: no storage, no grading.

Usage: eval_overhead_peer.py --base-url URL --prompts FILE --requests N [--concurrency 256]
Prints one JSON line: requests, seconds, requests_per_s, peak_rss_mb.
"""
import argparse
import asyncio
import json
import resource
import time

import openai


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--prompts", required=True, help="JSONL with a 'prompt' field (r1lab prompts)")
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--model", default="stub")
    args = parser.parse_args()
    with open(args.prompts) as lines:
        prompts = [json.loads(line)["prompt"] for line in lines if line.strip()]
    client = openai.AsyncOpenAI(base_url=args.base_url, api_key="unused", max_retries=8, timeout=3600)
    gate = asyncio.Semaphore(args.concurrency)
    done = 0

    async def one(i):
        nonlocal done
        async with gate:
            answer = await client.chat.completions.create(
                model=args.model, messages=[{"role": "user", "content": prompts[i % len(prompts)]}],
                temperature=0.6, top_p=0.95, max_tokens=32768, n=1, seed=i)
            assert answer.choices[0].message.content
            done += 1

    started = time.perf_counter()
    # Tasks are created in windows so that the peer, too, keeps its memory bounded.
    window = args.concurrency * 8
    for start in range(0, args.requests, window):
        await asyncio.gather(*(one(i) for i in range(start, min(args.requests, start + window))))
    seconds = time.perf_counter() - started
    await client.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"requests": done, "seconds": round(seconds, 2), "requests_per_s": round(done / seconds, 1),
                      "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
