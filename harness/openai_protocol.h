// harness/openai_protocol.h — the OpenAI HTTP API as data: request bodies, response parsing, and what
// each HTTP status means for a run. No sockets here (openai_backend.cpp does the transport), so every
// rule is testable on strings.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/backend.h"

namespace r1lab::harness {

enum class OpenAIApi { chat, completions };
std::string_view openai_api_name(OpenAIApi api);          // "chat", "completions"
OpenAIApi openai_api_from_name(std::string_view name);    // throws std::invalid_argument
std::string_view openai_api_path(OpenAIApi api);          // "/chat/completions", "/completions"

// The JSON body of one request. Stop strings are sent only when there are some; the seed only when set.
std::string openai_request_body(OpenAIApi api, const std::string& model, const GenerationRequest& request);

// A body that is not what the API promises (not JSON, no choices). The message says what was wrong.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ParsedResponse {
  std::vector<Completion> completions;   // ordered by choice index
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
};

// Parses a 200 answer. Chat answers with a separate reasoning field ("reasoning_content" as DeepSeek's
// API and vLLM's reasoning parsers send it, or "reasoning") get it joined back in front of the content.
// Throws ProtocolError.
ParsedResponse parse_openai_response(OpenAIApi api, std::string_view body);

// "<think>\n" + reasoning + "\n</think>\n\n" + content: the layout R1-style models produce themselves,
// so grading (which reads after the last </think>) sees one text either way. No reasoning: content.
std::string join_reasoning(std::string_view reasoning, std::string_view content);

// The server's own words from an error body ({"error": {"message": ...}}, {"detail": ...}, {"message":
// ...}), else the body's first 300 bytes.
std::string error_message_of(std::string_view body);

// What an HTTP status means: retry later (429, 408, 409, 5xx), fail this one request (other 4xx: a prompt
// too long, a bad parameter), or stop the run (401/403: the key; 404: the URL or the model).
enum class StatusDisposition { success, retry, fail_request, fail_run };
StatusDisposition classify_http_status(long status);

}  // namespace r1lab::harness
