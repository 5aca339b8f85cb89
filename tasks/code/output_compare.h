// tasks/code/output_compare.h — is a program's output right? The rules each benchmark defines, exactly.
//
//   lcb     LiveCodeBench's stdin rule (lcb_runner/evaluation/testing_util.py, grade_stdio): strip both
//           texts, split into lines, strip each line; the line counts must agree; each pair of lines is
//           equal as strings, or as lists of whitespace-separated tokens that all parse as Python
//           Decimals and are equal as Decimals ("1.0" == "1", "1e2" == "100"). No float tolerance.
//   tokens  Codeforces-style: whitespace-separated tokens equal (YES/NO in any letter case, as the
//           yes/no checkers accept); with a float tolerance > 0, two tokens
//           that both parse as numbers are also equal when |a - b| <= tol * max(1, |b|).
//   json    LiveCodeBench's functional rule: the returned value equals the expected JSON value under
//           Python's ==  (1 == 1.0 == True, lists element-wise, dicts by key); the driver has already
//           turned a returned tuple into a list, as LiveCodeBench does.
// Checker executables (testlib style) run in the sandbox; see test_runner.h.
#pragma once

#include <string>
#include <string_view>

namespace r1lab::code {

bool lcb_stdout_matches(std::string_view actual, std::string_view expected);
bool tokens_match(std::string_view actual, std::string_view expected, double float_tolerance = 0);
bool json_values_match(std::string_view actual_json, std::string_view expected_json);

// Python's Decimal(text) == Decimal(other) for the decimal syntax Python accepts; false when either
// does not parse (as LiveCodeBench treats a conversion failure) or is NaN.
bool decimal_strings_equal(std::string_view a, std::string_view b);

}  // namespace r1lab::code
