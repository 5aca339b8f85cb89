// harness/backend.h — what a generation backend is: requests in, completions out, at most a bounded
// number in flight. The OpenAI-compatible HTTP backend (openai_backend.h) implements it; the built-in
// LibTorch engine will implement it in trainer/, and the harness sees either only through this file.
//
// The backend pulls requests from a RequestSource when it has room and hands each finished request to a
// ResultSink, both on the thread that called run(); the caller needs no locking between the two.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace r1lab::harness {

struct ChatMessage {
  std::string role;      // "system", "user", "assistant"
  std::string content;
};

struct SamplingParams {
  double temperature = 0.6;   // the paper's protocol
  double top_p = 0.95;
  int max_tokens = 32768;
  std::vector<std::string> stop;
};

struct GenerationRequest {
  std::uint64_t key = 0;                 // the caller's handle, returned with the result
  std::string prompt;                    // completion APIs: the text as is
  std::vector<ChatMessage> messages;     // chat APIs (used when not empty)
  SamplingParams sampling;
  int n = 1;                             // samples wanted from this one prompt
  std::optional<std::int64_t> seed;
};

struct Completion {
  std::string text;            // with any separate reasoning joined back as <think>...</think> first
  std::string finish_reason;   // "stop", "length", ... as the server said
  std::int64_t tokens = -1;    // this completion's own token count when the backend knows it (the built-in
                               // engine; servers report usage for all choices together)
};

struct GenerationResult {
  std::uint64_t key = 0;
  std::vector<Completion> completions;   // in choice order; fewer than n when the server ignores n
  std::int64_t prompt_tokens = -1;       // from the server's usage, -1 when it gave none
  std::int64_t completion_tokens = -1;   // all choices together
  double latency_ms = 0;                 // of the attempt that succeeded (or the last one)
  int attempts = 0;                      // 1 + retries
  long http_status = 0;                  // of the last attempt; 0 when no answer came
  std::string error;                     // not empty: the request failed for good and has no completions
};

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // The next request, or nothing for now. Called only when the backend has room; asked again after each
  // result, which may have given it more (the rest of a request that came back short).
  virtual std::optional<GenerationRequest> next() = 0;
};

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void on_result(GenerationResult&& result) = 0;
  // A request will be sent again (rate limit, server error, timeout, dropped connection).
  virtual void on_retry(const std::string& reason) {}
};

// A failure that no retry can fix and that would hit every request: the server cannot be reached, does
// not serve the model, refuses the key, or does not speak the protocol. The message names the URL and
// what to change. Results delivered before it are kept by the caller.
class BackendError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class GenerationBackend {
 public:
  virtual ~GenerationBackend() = default;
  // One line for logs and results.json: "openai-chat http://127.0.0.1:8000/v1 model=...".
  virtual std::string describe() const = 0;
  // Checks before a run that generation can work at all; throws BackendError with the fix.
  virtual void check() = 0;
  // Runs requests from `source` until it is empty and all are answered. When `stop` turns true it
  // returns soon, abandoning requests still in flight (they were never delivered, so nothing is lost).
  // Throws BackendError on a run-wide failure, after every finished result has been delivered.
  virtual void run(RequestSource& source, ResultSink& sink, const std::atomic<bool>& stop) = 0;
};

}  // namespace r1lab::harness
