#include "tasks/prompts.h"

#include <stdexcept>

namespace r1lab::tasks {

std::string_view prompt_template_name(PromptTemplate t) { return t == PromptTemplate::paper ? "paper" : "r1_zero"; }

PromptTemplate prompt_template_from_name(std::string_view name) {
  if (name == "paper") return PromptTemplate::paper;
  if (name == "r1_zero" || name == "r1-zero") return PromptTemplate::r1_zero;
  throw std::invalid_argument("unknown prompt template '" + std::string(name) + "'; use paper or r1_zero");
}

std::string apply_template(PromptTemplate t, const std::string& question) {
  if (t == PromptTemplate::paper) return question;
  return "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
         "The assistant first thinks about the reasoning process in the mind and then provides the user with the "
         "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> "
         "tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
         "User: " + question + ". Assistant:";
}

}  // namespace r1lab::tasks
