#include "harness/openai_backend.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <random>

namespace r1lab::harness {

namespace {

using Clock = std::chrono::steady_clock;

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t append_to_string(char* data, std::size_t size, std::size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// Transport failures that a later attempt can get past: the server restarting, dropping or stalling.
bool is_retryable_transport_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

struct Transfer {
  CURL* easy = nullptr;
  GenerationRequest request;
  std::string body;        // kept for retries; curl reads it in place
  std::string response;
  int attempts = 0;
  Clock::time_point started;
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

struct RetryEntry {
  Clock::time_point due;
  Transfer* transfer;
  bool operator>(const RetryEntry& other) const { return due > other.due; }
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string transport_error_text(CURLcode code, const char* buffer) {
  std::string text = curl_easy_strerror(code);
  if (buffer && buffer[0]) text += std::string(" (") + buffer + ")";
  return text;
}

}  // namespace

std::string normalized_base_url(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    throw std::invalid_argument(fmt::format("--base-url must start with http:// or https://, not '{}' "
                                            "(e.g. http://127.0.0.1:8000/v1)", url));
  std::string trimmed = url;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  return trimmed;
}

OpenAIBackend::OpenAIBackend(OpenAIBackendOptions options) : options_(std::move(options)) {
  options_.base_url = normalized_base_url(options_.base_url);
  if (options_.model.empty()) throw std::invalid_argument("--model is required: the name the server serves the model under");
  if (options_.max_in_flight < 1) throw std::invalid_argument("--max-in-flight must be at least 1");
  global_init_once();
}

OpenAIBackend::~OpenAIBackend() = default;

std::string OpenAIBackend::describe() const {
  return fmt::format("openai-{} {} model={}", openai_api_name(options_.api), options_.base_url, options_.model);
}

void OpenAIBackend::check() {
  std::string url = options_.base_url + "/models";
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), curl_easy_cleanup);
  std::string response;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  if (!options_.api_key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + options_.api_key).c_str());
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()) + 30000L);
  CURLcode code = curl_easy_perform(easy.get());
  long status = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (code != CURLE_OK)
    throw BackendError(fmt::format("cannot reach {}: {}. Is the server running and listening there? Check "
                                   "--base-url (the API root, e.g. http://127.0.0.1:8000/v1)",
                                   url, transport_error_text(code, error_buffer)));
  if (status == 401 || status == 403)
    throw BackendError(fmt::format("{} refused the request (HTTP {}: {}). Check the API key: r1lab sends the "
                                   "variable that --api-key-env names", url, status, error_message_of(response)));
  if (status != 200) return;  // no model list here (some servers lack it): the first request checks the model
  nlohmann::json json = nlohmann::json::parse(response, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw BackendError(fmt::format("{} answered with something that is not JSON ('{}'). --base-url must be the API "
                                   "root of an OpenAI-compatible server, which usually ends in /v1",
                                   url, error_message_of(response)));
  auto data = json.find("data");
  if (data == json.end() || !data->is_array() || data->empty()) return;
  std::vector<std::string> served;
  for (const auto& entry : *data)
    if (entry.is_object() && entry.contains("id") && entry["id"].is_string()) served.push_back(entry["id"].get<std::string>());
  if (served.empty() || std::find(served.begin(), served.end(), options_.model) != served.end()) return;
  std::string listed;
  for (std::size_t i = 0; i < served.size() && i < 10; ++i) listed += (i ? ", " : "") + served[i];
  if (served.size() > 10) listed += fmt::format(", ... ({} in all)", served.size());
  throw BackendError(fmt::format("{} serves {}, not '{}': pass --model with one of these names", url, listed,
                                 options_.model));
}

void OpenAIBackend::run(RequestSource& source, ResultSink& sink, const std::atomic<bool>& stop) {
  const std::string endpoint = options_.base_url + std::string(openai_api_path(options_.api));
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options_.max_in_flight));
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options_.max_in_flight));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_in_flight));
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip before each body
  if (!options_.api_key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + options_.api_key).c_str());

  std::vector<std::unique_ptr<Transfer>> transfers;
  std::vector<Transfer*> idle;
  for (int i = 0; i < options_.max_in_flight; ++i) {
    auto t = std::make_unique<Transfer>();
    t->easy = curl_easy_init();
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, endpoint.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, append_to_string);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t->response);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "r1lab");
    idle.push_back(t.get());
    transfers.push_back(std::move(t));
  }
  // Whatever happens below, every handle goes back.
  struct Cleanup {
    CURLM* multi;
    curl_slist* headers;
    std::vector<std::unique_ptr<Transfer>>& transfers;
    ~Cleanup() {
      for (auto& t : transfers) {
        curl_multi_remove_handle(multi, t->easy);
        curl_easy_cleanup(t->easy);
      }
      curl_multi_cleanup(multi);
      curl_slist_free_all(headers);
    }
  } cleanup{multi, headers, transfers};

  std::priority_queue<RetryEntry, std::vector<RetryEntry>, std::greater<>> retries;
  std::mt19937_64 jitter(std::random_device{}());
  std::size_t active = 0;
  bool source_done = false;
  int consecutive_failures = 0;
  std::string fatal;

  auto start = [&](Transfer* t) {
    t->response.clear();
    t->error_buffer[0] = 0;
    ++t->attempts;
    t->started = Clock::now();
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body.c_str());
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
    curl_multi_add_handle(multi, t->easy);
    ++active;
  };
  auto backoff = [&](int attempt) {
    double ceiling = std::min<double>(static_cast<double>(options_.backoff_cap.count()),
                                      static_cast<double>(options_.backoff_base.count()) * std::pow(2.0, attempt - 1));
    std::uniform_real_distribution<double> half(0.0, ceiling / 2);
    return std::chrono::milliseconds(static_cast<long>(ceiling / 2 + half(jitter)));
  };
  auto deliver = [&](Transfer* t, GenerationResult&& result) {
    result.key = t->request.key;
    result.attempts = t->attempts;
    if (result.error.empty()) {
      consecutive_failures = 0;
    } else if (++consecutive_failures >= std::max(8, options_.max_in_flight) && fatal.empty()) {
      fatal = fmt::format("{} requests in a row to {} failed after {} retries each; the last: {}. Is the server "
                          "still up?", consecutive_failures, endpoint, options_.max_retries, result.error);
    }
    sink.on_result(std::move(result));
    source_done = false;  // a result can give the source more to ask (the rest of a request the server cut short)
    t->request = GenerationRequest{};
    t->body.clear();
    t->body.shrink_to_fit();
    t->attempts = 0;
    idle.push_back(t);
  };
  auto retry_or_fail = [&](Transfer* t, const std::string& reason, std::chrono::milliseconds delay, long status,
                           double latency_ms) {
    if (t->attempts <= options_.max_retries) {
      sink.on_retry(reason);
      retries.push({Clock::now() + delay, t});
      return;
    }
    GenerationResult result;
    result.http_status = status;
    result.latency_ms = latency_ms;
    result.error = fmt::format("{} (gave up after {} attempts)", reason, t->attempts);
    deliver(t, std::move(result));
  };
  auto finish = [&](Transfer* t, CURLcode code) {
    curl_multi_remove_handle(multi, t->easy);
    --active;
    double latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - t->started).count();
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) {
      std::string reason = transport_error_text(code, t->error_buffer);
      if (is_retryable_transport_error(code)) {
        retry_or_fail(t, reason, backoff(t->attempts), status, latency_ms);
      } else {
        GenerationResult result;
        result.latency_ms = latency_ms;
        result.error = reason;
        deliver(t, std::move(result));
      }
      return;
    }
    switch (classify_http_status(status)) {
      case StatusDisposition::success: {
        GenerationResult result;
        result.http_status = status;
        result.latency_ms = latency_ms;
        try {
          ParsedResponse parsed = parse_openai_response(options_.api, t->response);
          result.completions = std::move(parsed.completions);
          result.prompt_tokens = parsed.prompt_tokens;
          result.completion_tokens = parsed.completion_tokens;
        } catch (const ProtocolError& error) {
          if (fatal.empty())
            fatal = fmt::format("{} answered HTTP {} with a body r1lab cannot read: {}. --base-url must be the API "
                                "root of an OpenAI-compatible server (usually ending in /v1), and --api {} one it serves",
                                endpoint, status, error.what(), openai_api_name(options_.api));
          idle.push_back(t);
          return;
        }
        deliver(t, std::move(result));
        return;
      }
      case StatusDisposition::retry: {
        auto delay = backoff(t->attempts);
        curl_off_t retry_after = -1;
        if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after >= 0)
          delay = std::min<std::chrono::milliseconds>(std::chrono::seconds(retry_after), options_.retry_after_cap);
        retry_or_fail(t, fmt::format("HTTP {}: {}", status, error_message_of(t->response)), delay, status, latency_ms);
        return;
      }
      case StatusDisposition::fail_request: {
        std::string said = error_message_of(t->response);
        if (said.find(options_.model) != std::string::npos && fatal.empty()) {
          // The server names the model it was asked for: it does not serve it (vLLM answers 404, others 400).
          fatal = fmt::format("{} does not serve the model '{}' (HTTP {}: {}). Pass --model with the name the server "
                              "serves (GET {}/models lists them)", endpoint, options_.model, status, said, options_.base_url);
          idle.push_back(t);
          return;
        }
        GenerationResult result;
        result.http_status = status;
        result.latency_ms = latency_ms;
        result.error = fmt::format("HTTP {}: {}", status, said);
        deliver(t, std::move(result));
        return;
      }
      case StatusDisposition::fail_run: {
        std::string said = error_message_of(t->response);
        if (!fatal.empty()) {
        } else if (status == 401 || status == 403) {
          fatal = fmt::format("{} refused the request (HTTP {}: {}). Check the API key: r1lab sends the variable "
                              "that --api-key-env names", endpoint, status, said);
        } else if (lower(said).find("model") != std::string::npos) {
          fatal = fmt::format("{} does not serve the model '{}' (HTTP 404: {}). Pass --model with a name that GET "
                              "{}/models lists", endpoint, options_.model, said, options_.base_url);
        } else {
          fatal = fmt::format("{} does not exist (HTTP 404: {}). Check --base-url (the API root, usually ending "
                              "in /v1) and --api", endpoint, said);
        }
        idle.push_back(t);
        return;
      }
    }
  };

  while (!stop.load(std::memory_order_relaxed) && fatal.empty()) {
    auto now = Clock::now();
    while (!retries.empty() && retries.top().due <= now) {
      Transfer* t = retries.top().transfer;
      retries.pop();
      start(t);
    }
    while (!source_done && !idle.empty()) {
      std::optional<GenerationRequest> request = source.next();
      if (!request) {
        source_done = true;
        break;
      }
      Transfer* t = idle.back();
      idle.pop_back();
      t->request = std::move(*request);
      t->body = openai_request_body(options_.api, options_.model, t->request);
      t->attempts = 0;
      start(t);
    }
    if (active == 0 && retries.empty() && source_done) break;

    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &t);
      finish(t, message->data.result);
    }
    if (!fatal.empty()) break;
    int wait_ms = 100;  // also how soon a stop request is noticed
    if (!retries.empty()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(retries.top().due - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(until, 0, wait_ms));
    }
    if (!source_done && !idle.empty()) continue;  // room for more: fill it before waiting
    if (active > 0 || wait_ms > 0) curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  if (!fatal.empty()) throw BackendError(fatal);
}

}  // namespace r1lab::harness
