// The OpenAI wire format and the run-identity rules, on strings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/eval_run.h"
#include "harness/openai_protocol.h"
#include "harness/run_config.h"

namespace r1lab::harness {
namespace {

TEST(OpenAIProtocol, ChatBodyCarriesTheSamplingParametersAndOnlyTheOptionalFieldsThatAreSet) {
  GenerationRequest request;
  request.prompt = "What is 1+1?";
  request.n = 4;
  auto body = nlohmann::json::parse(openai_request_body(OpenAIApi::chat, "m", request));
  EXPECT_EQ(body["messages"], nlohmann::json::parse(R"([{"role":"user","content":"What is 1+1?"}])"));
  EXPECT_EQ(body["n"], 4);
  EXPECT_EQ(body["temperature"], 0.6);
  EXPECT_EQ(body["top_p"], 0.95);
  EXPECT_EQ(body["max_tokens"], 32768);
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_FALSE(body.contains("stop"));
  request.seed = 17;
  request.sampling.stop = {"</answer>"};
  body = nlohmann::json::parse(openai_request_body(OpenAIApi::completions, "m", request));
  EXPECT_EQ(body["prompt"], "What is 1+1?");
  EXPECT_FALSE(body.contains("messages"));
  EXPECT_EQ(body["seed"], 17);
  EXPECT_EQ(body["stop"], nlohmann::json::array({"</answer>"}));
}

TEST(OpenAIProtocol, ReasoningFieldIsJoinedBackAndChoicesAreOrderedByIndex) {
  auto parsed = parse_openai_response(OpenAIApi::chat, R"({"choices":[
      {"index":1,"message":{"content":"B","reasoning":"think b"},"finish_reason":"length"},
      {"index":0,"message":{"content":"\\boxed{2}","reasoning_content":"1+1 is 2"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":12,"completion_tokens":30}})");
  ASSERT_EQ(parsed.completions.size(), 2u);
  EXPECT_EQ(parsed.completions[0].text, "<think>\n1+1 is 2\n</think>\n\n\\boxed{2}");
  EXPECT_EQ(parsed.completions[0].finish_reason, "stop");
  EXPECT_EQ(parsed.completions[1].text, "<think>\nthink b\n</think>\n\nB");
  EXPECT_EQ(parsed.prompt_tokens, 12);
  EXPECT_EQ(parsed.completion_tokens, 30);
  auto plain = parse_openai_response(OpenAIApi::chat, R"({"choices":[{"message":{"content":"hi","reasoning_content":null}}]})");
  EXPECT_EQ(plain.completions[0].text, "hi");
  EXPECT_EQ(plain.prompt_tokens, -1);
}

TEST(OpenAIProtocol, BodiesThatAreNotTheApiAreProtocolErrors) {
  EXPECT_THROW(parse_openai_response(OpenAIApi::chat, "<html>502 Bad Gateway</html>"), ProtocolError);
  EXPECT_THROW(parse_openai_response(OpenAIApi::chat, R"({"object":"list"})"), ProtocolError);
  EXPECT_THROW(parse_openai_response(OpenAIApi::chat, R"({"choices":[{"text":"x"}]})"), ProtocolError);
  EXPECT_THROW(parse_openai_response(OpenAIApi::completions, R"({"choices":[{"message":{"content":"x"}}]})"), ProtocolError);
}

TEST(OpenAIProtocol, StatusesAreRetriedFailedOrFatalAsTheirMeaningSays) {
  EXPECT_EQ(classify_http_status(200), StatusDisposition::success);
  for (long s : {429L, 408L, 500L, 502L, 503L, 504L}) EXPECT_EQ(classify_http_status(s), StatusDisposition::retry) << s;
  for (long s : {400L, 413L, 422L}) EXPECT_EQ(classify_http_status(s), StatusDisposition::fail_request) << s;
  for (long s : {401L, 403L, 404L}) EXPECT_EQ(classify_http_status(s), StatusDisposition::fail_run) << s;
  EXPECT_EQ(error_message_of(R"({"error":{"message":"The model `x` does not exist."}})"), "The model `x` does not exist.");
  EXPECT_EQ(error_message_of(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(error_message_of("upstream connect error"), "upstream connect error");
}

TEST(RunConfig, SamplingChangesAreRefusedButMoreSamplesAndNewTasksAreNot) {
  auto stored = nlohmann::json::parse(R"({"generation":{"model":"m","temperature":0.6,"top_p":0.95},
      "tasks":{"aime24":{"version":1,"dataset_sha256":"a","prompt_template":"paper","choice_seed":0,"n":4,"problems":30}}})");
  auto current = stored;
  current["tasks"]["aime24"]["n"] = 64;
  current["tasks"]["math500"] = {{"version", 1}, {"dataset_sha256", "b"}, {"n", 4}};
  EXPECT_TRUE(run_config_differences(stored, current).empty());
  auto merged = merged_run_config(stored, current);
  EXPECT_EQ(merged["tasks"]["aime24"]["n"], 64);
  EXPECT_TRUE(merged["tasks"].contains("math500"));

  current["generation"]["temperature"] = 1.0;
  current["tasks"]["aime24"]["version"] = 2;
  auto differences = run_config_differences(stored, current);
  ASSERT_EQ(differences.size(), 2u);
  EXPECT_EQ(differences[0], "temperature: was 0.6, now 1.0");
  EXPECT_EQ(differences[1], "aime24 version: was 1, now 2");
}

TEST(RequestSeed, IsStableAndDiffersBetweenRequests) {
  auto a = request_seed(0, "aime24", "2024-I-1", 0);
  EXPECT_EQ(a, request_seed(0, "aime24", "2024-I-1", 0));
  EXPECT_NE(a, request_seed(0, "aime24", "2024-I-1", 1));
  EXPECT_NE(a, request_seed(1, "aime24", "2024-I-1", 0));
  EXPECT_NE(a, request_seed(0, "aime25", "2024-I-1", 0));
  EXPECT_GE(a, 0);
  EXPECT_LT(a, std::int64_t{1} << 31);
}

}  // namespace
}  // namespace r1lab::harness
