#include "tasks/grading/reasoning_split.h"

#include <cctype>

#include <stdexcept>
#include <string>

namespace r1lab::grading {

namespace {
constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";
}  // namespace

std::string_view think_policy_name(ThinkPolicy policy) {
  switch (policy) {
    case ThinkPolicy::required: return "required";
    case ThinkPolicy::none: return "none";
    case ThinkPolicy::automatic: return "auto";
  }
  return "required";
}

ThinkPolicy think_policy_from_name(std::string_view name) {
  if (name == "required") return ThinkPolicy::required;
  if (name == "none") return ThinkPolicy::none;
  if (name == "auto") return ThinkPolicy::automatic;
  throw std::invalid_argument("unknown think policy '" + std::string(name) + "'; use required, none or auto");
}

std::optional<std::string_view> answer_region(std::string_view completion, ThinkPolicy policy,
                                              std::string_view prompt) {
  if (policy == ThinkPolicy::none) return completion;
  std::size_t close = completion.rfind(kClose);
  if (close != std::string_view::npos) return completion.substr(close + kClose.size());
  if (policy == ThinkPolicy::automatic) {
    bool shows_tag = completion.find(kOpen) != std::string_view::npos ||
                     prompt.find(kOpen) != std::string_view::npos;
    if (!shows_tag) return completion;
  }
  return std::nullopt;
}

std::optional<std::string_view> last_closed_answer_tag(std::string_view region) {
  constexpr std::string_view kAnswerOpen = "<answer>", kAnswerClose = "</answer>";
  std::size_t close = region.rfind(kAnswerClose);
  if (close == std::string_view::npos) return std::nullopt;
  std::size_t open = region.rfind(kAnswerOpen, close);
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inner = region.substr(open + kAnswerOpen.size(), close - open - kAnswerOpen.size());
  std::size_t a = 0, b = inner.size();
  while (a < b && std::isspace(static_cast<unsigned char>(inner[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(inner[b - 1]))) --b;
  return inner.substr(a, b - a);
}

}  // namespace r1lab::grading
