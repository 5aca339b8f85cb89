#include "harness/process_launcher.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace r1lab::harness {
namespace {

volatile sig_atomic_t g_forward_signal = 0;
extern "C" void remember_signal(int signal) { g_forward_signal = signal; }

// A port the kernel says is free now (the children bind it a moment later; a clash fails loudly).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error(std::string("--nproc: cannot find a free port: ") + std::strerror(errno));
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

bool launched_as_rank() { return std::getenv("WORLD_SIZE") != nullptr; }

int run_local_ranks(int ranks, int argc, char** argv) {
  const std::string port = std::to_string(free_port());
  std::vector<std::string> inherited;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    for (const char* name : {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT=", "TORCHELASTIC_USE_AGENT_STORE="}) {
      if (entry.rfind(name, 0) == 0) entry.clear();
    }
    if (!entry.empty()) inherited.push_back(entry);
  }
  struct sigaction forward {};
  forward.sa_handler = remember_signal;
  ::sigaction(SIGINT, &forward, nullptr);
  ::sigaction(SIGTERM, &forward, nullptr);

  std::vector<pid_t> children;
  for (int rank = 0; rank < ranks; ++rank) {
    std::vector<std::string> env = inherited;
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    env.push_back("WORLD_SIZE=" + std::to_string(ranks));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(ranks));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + port);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) {
      for (pid_t child : children) ::kill(child, SIGKILL);
      throw std::runtime_error("--nproc: cannot start rank " + std::to_string(rank));
    }
    children.push_back(pid);
  }
  int result = 0, running = ranks;
  bool stopping = false;
  while (running > 0) {
    int status = 0;
    pid_t done = ::waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR) {
        if (g_forward_signal) {
          for (pid_t child : children) ::kill(child, g_forward_signal);
          g_forward_signal = 0;
        }
        continue;
      }
      break;
    }
    --running;
    int rank = -1;
    for (std::size_t r = 0; r < children.size(); ++r) {
      if (children[r] == done) {
        children[r] = -1;
        rank = static_cast<int>(r);
      }
    }
    int code = exit_code(status);
    if (code != 0 && result == 0) {
      result = code;
      if (!stopping) {
        // One rank failed: the others would wait for it in their next collective. Stop them.
        stopping = true;
        std::cerr << "r1lab: rank " << rank << " exited with " << code
                  << (WIFSIGNALED(status) ? " (killed by signal " + std::to_string(WTERMSIG(status)) + ")" : std::string())
                  << "; stopping the other ranks\n";
        for (pid_t child : children) {
          if (child > 0) ::kill(child, SIGKILL);
        }
      }
    }
  }
  (void)argc;
  return result;
}

}  // namespace r1lab::harness
