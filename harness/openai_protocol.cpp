#include "harness/openai_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace r1lab::harness {

std::string_view openai_api_name(OpenAIApi api) { return api == OpenAIApi::chat ? "chat" : "completions"; }

OpenAIApi openai_api_from_name(std::string_view name) {
  if (name == "chat") return OpenAIApi::chat;
  if (name == "completions") return OpenAIApi::completions;
  throw std::invalid_argument(fmt::format("--api must be chat or completions, not '{}'", name));
}

std::string_view openai_api_path(OpenAIApi api) {
  return api == OpenAIApi::chat ? "/chat/completions" : "/completions";
}

std::string openai_request_body(OpenAIApi api, const std::string& model, const GenerationRequest& request) {
  nlohmann::json body = {{"model", model},
                         {"n", request.n},
                         {"temperature", request.sampling.temperature},
                         {"top_p", request.sampling.top_p},
                         {"max_tokens", request.sampling.max_tokens}};
  if (api == OpenAIApi::chat) {
    nlohmann::json messages = nlohmann::json::array();
    if (request.messages.empty()) {
      messages.push_back({{"role", "user"}, {"content", request.prompt}});
    } else {
      for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    }
    body["messages"] = std::move(messages);
  } else {
    body["prompt"] = request.prompt;
  }
  if (!request.sampling.stop.empty()) body["stop"] = request.sampling.stop;
  if (request.seed) body["seed"] = *request.seed;
  // Prompts are dataset text and always valid UTF-8; replace rather than throw if one is not.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string join_reasoning(std::string_view reasoning, std::string_view content) {
  if (reasoning.empty()) return std::string(content);
  std::string text;
  text.reserve(reasoning.size() + content.size() + 24);
  text += "<think>\n";
  text += reasoning;
  text += "\n</think>\n\n";
  text += content;
  return text;
}

namespace {

std::string string_or_empty(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::string excerpt(std::string_view body) {
  std::string text(body.substr(0, 300));
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return body.size() > 300 ? text + "..." : text;
}

}  // namespace

ParsedResponse parse_openai_response(OpenAIApi api, std::string_view body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw ProtocolError("the answer is not a JSON object: '" + excerpt(body) + "'");
  auto choices = json.find("choices");
  if (choices == json.end() || !choices->is_array())
    throw ProtocolError("the answer has no \"choices\" array: '" + excerpt(body) + "'");
  ParsedResponse parsed;
  std::vector<std::pair<std::int64_t, Completion>> indexed;
  for (std::size_t i = 0; i < choices->size(); ++i) {
    const auto& choice = (*choices)[i];
    if (!choice.is_object()) throw ProtocolError(fmt::format("choices[{}] is not an object", i));
    std::int64_t index = choice.value("index", static_cast<std::int64_t>(i));
    Completion completion;
    completion.finish_reason = string_or_empty(choice, "finish_reason");
    if (api == OpenAIApi::chat) {
      auto message = choice.find("message");
      if (message == choice.end() || !message->is_object())
        throw ProtocolError(fmt::format("choices[{}] has no \"message\" object (is --api chat right?)", i));
      std::string reasoning = string_or_empty(*message, "reasoning_content");
      if (reasoning.empty()) reasoning = string_or_empty(*message, "reasoning");
      completion.text = join_reasoning(reasoning, string_or_empty(*message, "content"));
    } else {
      auto text = choice.find("text");
      if (text == choice.end() || !text->is_string())
        throw ProtocolError(fmt::format("choices[{}] has no \"text\" string (is --api completions right?)", i));
      completion.text = text->get<std::string>();
    }
    indexed.emplace_back(index, std::move(completion));
  }
  std::stable_sort(indexed.begin(), indexed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [index, completion] : indexed) parsed.completions.push_back(std::move(completion));
  auto usage = json.find("usage");
  if (usage != json.end() && usage->is_object()) {
    auto number = [&](const char* key) -> std::int64_t {
      auto it = usage->find(key);
      return it != usage->end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
    };
    parsed.prompt_tokens = number("prompt_tokens");
    parsed.completion_tokens = number("completion_tokens");
  }
  return parsed;
}

std::string error_message_of(std::string_view body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    auto error = json.find("error");
    if (error != json.end()) {
      if (error->is_string()) return error->get<std::string>();
      if (error->is_object() && error->contains("message") && (*error)["message"].is_string())
        return (*error)["message"].get<std::string>();
    }
    for (const char* key : {"detail", "message"}) {
      auto it = json.find(key);
      if (it != json.end()) return it->is_string() ? it->get<std::string>() : it->dump();
    }
  }
  return excerpt(body);
}

StatusDisposition classify_http_status(long status) {
  if (status >= 200 && status < 300) return StatusDisposition::success;
  if (status == 429 || status == 408 || status == 409 || status >= 500) return StatusDisposition::retry;
  if (status == 401 || status == 403 || status == 404) return StatusDisposition::fail_run;
  return StatusDisposition::fail_request;
}

}  // namespace r1lab::harness
