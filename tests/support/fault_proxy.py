#!/usr/bin/env python3
"""A fault-injecting HTTP proxy on loopback, between r1lab and an OpenAI-compatible server.

Each POST (a generation request) meets one fault, drawn from a seeded generator, or passes:
  drop   the connection is closed without an answer
  500    an HTTP 500 with an error body
  429    an HTTP 429 with Retry-After: 1
  stall  nothing for --stall-seconds, then the connection is closed (the client's timeout must fire)
  cut    the server's answer is forwarded only half way, then the connection is closed
GET requests (the model list) always pass. Prints "port N" once listening; after every request it
rewrites --stats (JSON counts per outcome) so a test can check that every fault really happened.

Usage: fault_proxy.py --upstream http://127.0.0.1:PORT [--port 0] [--seed 0] [--rate 0.3]
                      [--stall-seconds 30] [--stats FILE]
"""
import argparse
import asyncio
import json
import os
import random
import urllib.parse

FAULTS = ["drop", "500", "429", "stall", "cut"]


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers, body


async def forward(upstream, method, path, headers, body):
    reader, writer = await asyncio.open_connection(upstream.hostname, upstream.port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {upstream.hostname}:{upstream.port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    for key, value in headers.items():
        if key not in ("host", "connection", "content-length", "expect"):
            lines.append(f"{key}: {value}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


def plain(status, reason, body, extra=""):
    data = body.encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"{extra}\r\n").encode() + data


class Proxy:
    def __init__(self, args):
        self.args = args
        self.upstream = urllib.parse.urlparse(args.upstream)
        self.random = random.Random(args.seed)
        self.counts = {name: 0 for name in FAULTS + ["pass"]}

    def save_stats(self):
        if not self.args.stats:
            return
        partial = self.args.stats + ".partial"
        with open(partial, "w") as out:
            json.dump(self.counts, out)
        os.replace(partial, self.args.stats)

    async def client(self, reader, writer):
        try:
            while True:
                try:
                    method, path, headers, body = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                fault = "pass"
                if method == "POST" and self.random.random() < self.args.rate:
                    fault = self.random.choice(FAULTS)
                self.counts[fault] += 1
                self.save_stats()
                if fault == "drop":
                    return
                if fault == "500":
                    writer.write(plain(500, "Internal Server Error", '{"error": {"message": "injected fault"}}'))
                elif fault == "429":
                    writer.write(plain(429, "Too Many Requests", '{"error": {"message": "injected rate limit"}}',
                                       "Retry-After: 1\r\n"))
                elif fault == "stall":
                    await asyncio.sleep(self.args.stall_seconds)
                    return
                else:
                    answer = await forward(self.upstream, method, path, headers, body)
                    if fault == "cut":
                        writer.write(answer[: len(answer) // 2])
                        await writer.drain()
                        return
                    # The upstream closes after each answer; the client keeps its connection to us.
                    head, _, payload = answer.partition(b"\r\n\r\n")
                    kept = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
                    writer.write(b"\r\n".join(kept) + b"\r\n\r\n" + payload)
                await writer.drain()
        finally:
            writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--stall-seconds", type=float, default=30)
    parser.add_argument("--stats")
    args = parser.parse_args()
    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.client, "127.0.0.1", args.port)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
