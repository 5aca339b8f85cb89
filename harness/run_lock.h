// harness/run_lock.h — one r1lab process per run directory. Two processes resuming the same run would
// ask for the same missing samples; the second is refused instead. An flock, so a killed holder's lock
// goes away with it and never needs cleaning up.
#pragma once

#include <filesystem>

namespace r1lab::harness {

class RunDirectoryLock {
 public:
  // Throws std::runtime_error naming the directory (and the holder's pid) when another process holds it.
  explicit RunDirectoryLock(const std::filesystem::path& run_dir);
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;
  int fd() const { return fd_; }   // child processes that must not keep the lock close this

 private:
  int fd_ = -1;
};

}  // namespace r1lab::harness
