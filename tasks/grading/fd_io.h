// tasks/grading/fd_io.h — whole reads and writes on pipes between r1lab's processes (grading pool, grading
// service): retried on EINTR and short counts; false when the other end is gone.
#pragma once

#include <cstddef>

namespace r1lab::grading {

bool write_all(int fd, const void* data, std::size_t size);
bool read_all(int fd, void* data, std::size_t size);

}  // namespace r1lab::grading
