// harness/openai_backend.h — generation through any OpenAI-compatible server (vLLM, SGLang, TGI,
// llama.cpp's server, transformers serve, hosted APIs) over HTTP, on libcurl's multi interface: one
// thread drives every connection, connections are kept alive and reused, and each request has its own
// timeout and retry schedule.
//
// Retries (bounded by max_retries, each reported to the sink): 429 after Retry-After when the server sends
// one, else exponential backoff with full jitter; 408/409/5xx, timeouts, refused or reset connections and
// answers cut short likewise. Other 4xx fail that request alone; 401/403/404 and malformed answers stop the
// run with a BackendError naming the URL and the fix.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "harness/backend.h"
#include "harness/openai_protocol.h"

namespace r1lab::harness {

struct OpenAIBackendOptions {
  std::string base_url;                      // the API root, e.g. http://127.0.0.1:8000/v1
  std::string model;
  OpenAIApi api = OpenAIApi::chat;
  std::string api_key;                       // sent as a bearer token when not empty
  int max_in_flight = 64;                    // concurrent requests (and connections)
  std::chrono::milliseconds request_timeout{std::chrono::minutes(60)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  int max_retries = 8;
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{std::chrono::seconds(60)};
  std::chrono::milliseconds retry_after_cap{std::chrono::minutes(5)};
};

class OpenAIBackend : public GenerationBackend {
 public:
  explicit OpenAIBackend(OpenAIBackendOptions options);
  ~OpenAIBackend() override;
  std::string describe() const override;
  // GET {base}/models: the server answers, speaks JSON and lists the model (when it lists any).
  void check() override;
  void run(RequestSource& source, ResultSink& sink, const std::atomic<bool>& stop) override;

 private:
  OpenAIBackendOptions options_;
};

// The API root without a trailing slash; throws std::invalid_argument unless it is http(s)://...
std::string normalized_base_url(const std::string& url);

}  // namespace r1lab::harness
