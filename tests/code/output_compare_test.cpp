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

// Python's str.strip()/str.split() and Decimal are Unicode-aware (CPython 3.11, Unicode 14.0).
TEST(LcbStdout, UnicodeWhitespaceAndDigitsAsPython) {
  EXPECT_TRUE(lcb_stdout_matches("1\u00a02", "1 2"));          // NO-BREAK SPACE splits tokens
  EXPECT_TRUE(lcb_stdout_matches("Yes\u3000", "Yes"));         // IDEOGRAPHIC SPACE is stripped
  EXPECT_TRUE(lcb_stdout_matches("\u20281\u2028", "1"));       // LINE SEPARATOR is whitespace to strip()
  EXPECT_TRUE(lcb_stdout_matches("1\x1f" "2\xc2\x85" "2", "1 2 2"));   // so are U+001F and NEL (U+0085)
  EXPECT_FALSE(lcb_stdout_matches("1\u200b2", "1 2"));         // ZERO WIDTH SPACE is not
  EXPECT_TRUE(lcb_stdout_matches("\uff13", "3"));              // FULLWIDTH DIGIT THREE: Decimal("３") == 3
  EXPECT_TRUE(lcb_stdout_matches("\u0661\u0662.5", "12.5"));   // ARABIC-INDIC digits
  EXPECT_TRUE(lcb_stdout_matches("\U0001d7d1", "3"));          // MATHEMATICAL BOLD DIGIT THREE
  EXPECT_FALSE(lcb_stdout_matches("\u00b2", "2"));             // SUPERSCRIPT TWO is not a decimal digit
  EXPECT_FALSE(lcb_stdout_matches("\u2212" "1", "-1"));        // MINUS SIGN is not '-'
  EXPECT_FALSE(lcb_stdout_matches("1\u00a0\n2", "1\n2\n3"));  // lines are still split at "\n" only
  EXPECT_FALSE(lcb_stdout_matches("1\u20282", "1\n2"));        // ... not at U+2028 (a token separator)
  EXPECT_FALSE(lcb_stdout_matches("\xff", "3"));               // invalid UTF-8 is no digit and no space
  EXPECT_TRUE(lcb_stdout_matches("\xff", "\xff"));            // but equal strings are equal
}

// Each as CPython 3.11's Decimal(text) (C _decimal / libmpdec) decides.
TEST(Decimals, PythonSyntax) {
  EXPECT_TRUE(decimal_strings_equal("1_000", "1000"));
  EXPECT_TRUE(decimal_strings_equal("+.5", "0.50"));
  EXPECT_TRUE(decimal_strings_equal("Infinity", "inf"));
  EXPECT_FALSE(decimal_strings_equal("inf", "-inf"));
  EXPECT_TRUE(decimal_strings_equal("1_", "1"));          // _decimal drops every underscore
  EXPECT_TRUE(decimal_strings_equal("_1_e_5", "1e5"));
  EXPECT_TRUE(decimal_strings_equal("i_nf", "inf"));
  EXPECT_FALSE(decimal_strings_equal("_", "0"));
  EXPECT_TRUE(decimal_strings_equal("1.", "1"));
  EXPECT_FALSE(decimal_strings_equal(".", "0"));
  EXPECT_FALSE(decimal_strings_equal("infinit", "inf"));
  EXPECT_FALSE(decimal_strings_equal("nan", "nan"));
  EXPECT_TRUE(decimal_strings_equal("\u00a0" "3\u3000", "3"));   // surrounding Unicode whitespace
  EXPECT_FALSE(decimal_strings_equal("1 2", "12"));
  EXPECT_TRUE(decimal_strings_equal("\uff11\uff12.\uff15", "12.5"));
  EXPECT_TRUE(decimal_strings_equal("1e\uff13", "1000"));
  EXPECT_TRUE(decimal_strings_equal("1.5e999999999999999999", "15e999999999999999998"));
  EXPECT_FALSE(decimal_strings_equal("10e999999999999999999", "10e999999999999999999"));   // past Emax
  EXPECT_FALSE(decimal_strings_equal("1e9223372036854775808", "1e9223372036854775808"));   // past 64 bits
  EXPECT_TRUE(decimal_strings_equal("1e-999999999999999999", "0.1e-999999999999999998"));
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

// Python compares int and float exactly; integers beyond 64 bits stay exact.
TEST(JsonValues, NumbersExactAsPython) {
  EXPECT_TRUE(json_values_match("1180591620717411303424", "1180591620717411303424"));
  EXPECT_FALSE(json_values_match("1180591620717411303425", "1180591620717411303424"));
  EXPECT_FALSE(json_values_match("9007199254740993", "9007199254740992.0"));   // 2**53 + 1 != 2.0**53
  EXPECT_TRUE(json_values_match("9007199254740992", "9007199254740992.0"));
  EXPECT_TRUE(json_values_match("1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160", "1e300"));
  EXPECT_TRUE(json_values_match("-0.0", "0"));
  EXPECT_TRUE(json_values_match("0.5", "5e-1"));
  EXPECT_FALSE(json_values_match("0.1", "0.10000000000000002"));
  EXPECT_TRUE(json_values_match("{\"a\": 1, \"a\": 2}", "{\"a\": 2}"));          // the last repeated key wins
  EXPECT_FALSE(json_values_match("{\"@@r1lab-unequal@@\": \"set\"}", "{\"@@r1lab-unequal@@\": \"set\"}"));
  EXPECT_FALSE(json_values_match("[{\"@@r1lab-unequal@@\": \"tuple\"}]", "[[1, 2]]"));
  EXPECT_FALSE(json_values_match(std::string(2000, '[') + std::string(2000, ']'), std::string(2000, '[') + std::string(2000, ']')));
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
