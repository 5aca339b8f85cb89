// tasks/code/lcb_test_codec.h — LiveCodeBench's packed private tests, decoded in C++.
//
// code_generation_lite stores private_test_cases as base64(zlib(pickle(str))), where the str is the
// JSON list of {input, output, testtype}. Only the pickle opcodes that a pickled str can contain are
// accepted (PROTO, FRAME, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, MEMOIZE, PUT, BINPUT,
// STOP): anything else is refused, so no pickle can make r1lab do more than read a string.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace r1lab::code {

struct TestCodecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string base64_decode(std::string_view text);            // throws TestCodecError
std::string zlib_inflate(std::string_view compressed);       // throws TestCodecError
std::string unpickle_string(std::string_view pickle);        // throws TestCodecError
// All three: the JSON text of the tests.
std::string decode_lcb_private_tests(std::string_view packed);

}  // namespace r1lab::code
