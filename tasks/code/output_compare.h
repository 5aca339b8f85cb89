// tasks/code/output_compare.h — is a program's output right? The rules each benchmark defines, exactly.
//
//   lcb     LiveCodeBench's stdin rule (lcb_runner/evaluation/testing_util.py, grade_stdio): strip both
//           texts, split into lines at "\n", strip each line; the line counts must agree; each pair of
//           lines is equal as strings, or as lists of whitespace-separated tokens that all parse as
//           Python Decimals and are equal as Decimals ("1.0" == "1", "1e2" == "100"). No float
//           tolerance. Stripping and splitting are Python's str.strip()/str.split(): every character
//           for which str.isspace() is true is whitespace (U+00A0, U+3000, U+2028, U+001F, ...), and
//           Decimal reads any Unicode decimal digit ("３" == "3"), as CPython 3.11 does (Unicode 14.0).
//   tokens  Codeforces-style: whitespace-separated tokens equal (YES/NO in any letter case, as the
//           yes/no checkers accept); with a float tolerance > 0, two tokens
//           that both parse as numbers are also equal when |a - b| <= tol * max(1, |b|).
//   json    LiveCodeBench's functional rule: the returned value == the expected JSON value in Python
//           (1 == 1.0 == True, lists element-wise, dicts by key; numbers compared exactly, as Python
//           compares int, float, Fraction and Decimal). The returned value arrives as the functional
//           driver describes it (code_grading.h): integral numbers as integers, other numbers as the
//           float they equal exactly, and anything that can equal no JSON value (a tuple inside a list,
//           a set, Fraction(1, 3), a dict with int keys, ...) as {"@@r1lab-unequal@@": why}.
// Checker executables (testlib style) run in the sandbox; see test_runner.h.
#pragma once

#include <string>
#include <string_view>

namespace r1lab::code {

bool lcb_stdout_matches(std::string_view actual, std::string_view expected);
bool tokens_match(std::string_view actual, std::string_view expected, double float_tolerance = 0);
bool json_values_match(std::string_view actual_json, std::string_view expected_json);

// Python's Decimal(text) == Decimal(other) for what CPython's Decimal constructor accepts (surrounding
// Unicode whitespace, underscores anywhere, Unicode decimal digits); false when either does not parse
// (as LiveCodeBench treats a conversion failure) or is NaN.
bool decimal_strings_equal(std::string_view a, std::string_view b);

// The key under which the functional driver marks a value that equals no JSON value.
inline constexpr std::string_view kUnequalValueKey = "@@r1lab-unequal@@";

}  // namespace r1lab::code
