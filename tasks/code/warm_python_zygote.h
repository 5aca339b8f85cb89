// tasks/code/warm_python_zygote.h — the Python source of the warm interpreter (tasks/code/warm_python.h):
// it loads the import prelude once, then runs each test in a fork of itself. Kept apart from the C++
// that drives it so that each file holds one language.
#pragma once

#include <string>

namespace r1lab::code {

const std::string& warm_python_zygote_source();

}  // namespace r1lab::code
