// Output comparison rules, code extraction and LiveCodeBench's test packing.
#include <gtest/gtest.h>

#include "tasks/code/code_extract.h"
#include "tasks/code/lcb_test_codec.h"
#include "tasks/code/output_compare.h"

namespace r1lab::code {
namespace {

TEST(LcbStdout, StripsLinesAndComparesDecimals) {
  EXPECT_TRUE(lcb_stdout_matches("3\n", "3"));
  EXPECT_TRUE(lcb_stdout_matches("  1 2 3  \r\n4\n\n", "1 2 3\n4"));
  EXPECT_TRUE(lcb_stdout_matches("1.0 2", "1 2.00"));        // Decimal("1.0") == Decimal("1")
  EXPECT_TRUE(lcb_stdout_matches("1e2", "100"));
  EXPECT_TRUE(lcb_stdout_matches("-0", "0"));
  EXPECT_TRUE(lcb_stdout_matches("1   2", "1 2"));            // whitespace-split tokens
  EXPECT_FALSE(lcb_stdout_matches("0.3333333", "0.3333334")); // no float tolerance
  EXPECT_FALSE(lcb_stdout_matches("1\n2", "1 2"));            // line counts differ
  EXPECT_FALSE(lcb_stdout_matches("Yes", "yes"));             // strings are exact
  EXPECT_TRUE(lcb_stdout_matches("nan", "nan"));              // equal as strings first, as LiveCodeBench
  EXPECT_FALSE(lcb_stdout_matches("nan 1", "NaN 1"));         // as Decimals NaN != NaN
  EXPECT_FALSE(lcb_stdout_matches("1 a", "1.0 a"));           // one token is not a Decimal: the line is wrong
}

TEST(Decimals, PythonSyntax) {
  EXPECT_TRUE(decimal_strings_equal("1_000", "1000"));
  EXPECT_TRUE(decimal_strings_equal("+.5", "0.50"));
  EXPECT_TRUE(decimal_strings_equal("Infinity", "inf"));
  EXPECT_FALSE(decimal_strings_equal("inf", "-inf"));
  EXPECT_FALSE(decimal_strings_equal("1_", "1"));
  EXPECT_FALSE(decimal_strings_equal("0x10", "16"));
  EXPECT_FALSE(decimal_strings_equal("1e", "1"));
  EXPECT_TRUE(decimal_strings_equal("12345678901234567890123", "1.2345678901234567890123e22"));
}

TEST(Tokens, ExactWithOptionalToleranceAndYesNoInAnyCase) {
  EXPECT_TRUE(tokens_match("1 2\n3\n", "1\n2 3"));
  EXPECT_FALSE(tokens_match("1.0", "1"));
  EXPECT_TRUE(tokens_match("1.0000001", "1", 1e-6));
  EXPECT_FALSE(tokens_match("1.01", "1", 1e-6));
  EXPECT_TRUE(tokens_match("yEs NO", "YES no"));
  EXPECT_FALSE(tokens_match("YES", "NO"));
  EXPECT_FALSE(tokens_match("Abc", "abc"));
}

TEST(JsonValues, PythonEquality) {
  EXPECT_TRUE(json_values_match("[1, 2]", "[1,2]"));
  EXPECT_TRUE(json_values_match("1.0", "1"));
  EXPECT_TRUE(json_values_match("true", "1"));               // True == 1 in Python
  EXPECT_FALSE(json_values_match("\"1\"", "1"));
  EXPECT_TRUE(json_values_match("{\"a\": [1, {\"b\": null}]}", "{\"a\":[1.0,{\"b\":null}]}"));
  EXPECT_FALSE(json_values_match("[1, 2]", "[2, 1]"));
  EXPECT_FALSE(json_values_match("-1", "18446744073709551615"));
  EXPECT_FALSE(json_values_match("not json", "1"));
}

TEST(Extraction, LastFencedBlockAndItsLanguage) {
  auto code = extract_last_code_block("text\n```python\nprint(1)\n```\nmore\n```cpp\nint main(){}\n```\n", Language::python);
  ASSERT_TRUE(code);
  EXPECT_EQ(code->source, "int main(){}");
  EXPECT_EQ(code->language, Language::cpp);
  auto untagged = extract_last_code_block("```\n#include <cstdio>\nint main(){}\n```", Language::python);
  ASSERT_TRUE(untagged);
  EXPECT_EQ(untagged->language, Language::cpp);
  EXPECT_EQ(extract_last_code_block("```\nx = 1\n```", Language::python)->language, Language::python);
  EXPECT_FALSE(extract_last_code_block("no code here ```", Language::python));
  EXPECT_EQ(extract_last_code_block("```py\n```", Language::python)->source, "");
}

TEST(LcbCodec, RefusesWhatIsNotAPickledString) {
  EXPECT_THROW(decode_lcb_private_tests("!!!"), TestCodecError);
  EXPECT_THROW(zlib_inflate("not zlib"), TestCodecError);
  // PROTO 4, then GLOBAL ('c'): code execution in a real unpickler, refused here.
  EXPECT_THROW(unpickle_string(std::string("\x80\x04" "cos\nsystem\n", 13)), TestCodecError);
  // PROTO 4, SHORT_BINUNICODE "[]", STOP.
  EXPECT_EQ(unpickle_string(std::string("\x80\x04\x8c\x02[]\x94.", 8)), "[]");
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
}

}  // namespace
}  // namespace r1lab::code
