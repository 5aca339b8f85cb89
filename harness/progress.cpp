#include "harness/progress.h"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

namespace r1lab::harness {

namespace {

std::string duration_text(double seconds) {
  if (seconds < 0 || seconds > 1e8) return "?";
  auto s = static_cast<long>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string count_text(double value) {
  if (value >= 1e6) return fmt::format("{:.1f}M", value / 1e6);
  if (value >= 1e4) return fmt::format("{:.1f}k", value / 1e3);
  return fmt::format("{:.0f}", value);
}

}  // namespace

bool is_terminal(std::FILE* stream) {
  const char* term = std::getenv("TERM");
  return ::isatty(::fileno(stream)) && !(term && std::strcmp(term, "dumb") == 0);
}

ProgressMeter::ProgressMeter(std::int64_t total, std::int64_t already_done, std::FILE* out, bool live,
                             std::chrono::seconds log_every)
    : total_(total), already_done_(already_done), out_(out), live_(live), log_every_(log_every),
      started_(std::chrono::steady_clock::now()), last_print_(started_) {}

std::string ProgressMeter::line() const {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  auto done = counters.samples_done.load();
  auto graded = counters.graded.load();
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  double tokens_rate = elapsed > 0 ? static_cast<double>(counters.completion_tokens.load()) / elapsed : 0;
  std::int64_t all = total_ + already_done_;
  std::int64_t have = done + already_done_;
  std::string eta = done >= total_ ? "0s" : rate > 0 ? duration_text(static_cast<double>(total_ - done) / rate) : "?";
  std::string text = fmt::format("{}/{} samples ({:.1f}%)  {:.1f} samples/s  {} tok/s", have, all,
                                 all > 0 ? 100.0 * static_cast<double>(have) / static_cast<double>(all) : 100.0, rate,
                                 count_text(tokens_rate));
  if (graded > 0)
    text += fmt::format("  graded {} ({:.1f}% correct)", graded, 100.0 * static_cast<double>(counters.correct.load()) / static_cast<double>(graded));
  text += fmt::format("  retries {}  errors {}  elapsed {}  ETA {}", counters.retries.load(), counters.failed_requests.load(),
                      duration_text(elapsed), eta);
  return text;
}

void ProgressMeter::print(bool force) {
  if (!out_) return;
  auto now = std::chrono::steady_clock::now();
  auto every = live_ ? std::chrono::milliseconds(500) : std::chrono::duration_cast<std::chrono::milliseconds>(log_every_);
  if (!force && now - last_print_ < every) return;
  last_print_ = now;
  if (live_) {
    std::fprintf(out_, "\r\033[K%s", line().c_str());
    printed_live_ = true;
  } else {
    std::fprintf(out_, "eval: %s\n", line().c_str());
  }
  std::fflush(out_);
}

void ProgressMeter::finish() {
  if (out_ && live_ && printed_live_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    printed_live_ = false;
  }
}

}  // namespace r1lab::harness
