#include "trainer/train_log.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <vector>


namespace r1lab::trainer {
namespace {

std::string duration_text(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  }
  return text;
}

}  // namespace

double peak_rss_mib() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

TrainLog::TrainLog(const std::filesystem::path& metrics_file, std::int64_t resume_step, std::int64_t total_steps,
                   const std::string& progress, double log_every_s)
    : total_steps_(total_steps), log_every_s_(log_every_s) {
  std::vector<std::string> kept;
  if (std::filesystem::exists(metrics_file)) {
    std::ifstream in(metrics_file);
    std::string line;
    while (std::getline(in, line)) {
      try {
        auto j = nlohmann::json::parse(line);
        if (j.value("step", std::int64_t{0}) <= resume_step) kept.push_back(line);
      } catch (const nlohmann::json::exception&) {
        // A line cut by a crash: dropped.
      }
    }
  }
  {
    std::filesystem::path partial = metrics_file;
    partial += ".partial";
    std::ofstream out(partial, std::ios::trunc);
    for (const auto& line : kept) out << line << "\n";
    out.flush();
    if (!out) throw std::runtime_error(partial.string() + ": write failed");
    out.close();
    std::filesystem::rename(partial, metrics_file);
  }
  metrics_.open(metrics_file, std::ios::app);
  if (!metrics_) throw std::runtime_error(metrics_file.string() + ": cannot write");
  live_ = progress == "live" || progress == "bar" || (progress == "auto" && ::isatty(STDERR_FILENO));
  quiet_ = progress == "none";
  started_ = last_log_ = std::chrono::steady_clock::now();
}

void TrainLog::step(const nlohmann::json& m) {
  metrics_ << m.dump() << "\n";
  metrics_.flush();
  const auto step = m.at("step").get<std::int64_t>();
  if (first_step_ < 0) first_step_ = step - 1;
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - started_).count();
  const double per_step = elapsed / static_cast<double>(std::max<std::int64_t>(1, step - first_step_));
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, "step %lld/%lld  loss %.4f  grad norm %.3f  lr %.2e  %.0f tok/s  ETA %s",
                static_cast<long long>(step), static_cast<long long>(total_steps_), m.at("loss").get<double>(),
                m.value("grad_norm", 0.0), m.value("lr", 0.0), m.at("tokens_per_s").get<double>(),
                duration_text(per_step * static_cast<double>(total_steps_ - step)).c_str());
  std::string text = buffer;
  if (m.contains("reward")) {   // GRPO: what the policy earns matters more than its loss value
    std::snprintf(buffer, sizeof buffer, "  reward %.3f  accuracy %.3f  length %.0f", m.at("reward").get<double>(),
                  m.value("accuracy", 0.0), m.value("response_length_mean", 0.0));
    text += buffer;
  }
  if (live_) {
    std::cerr << "\r\033[K" << text << std::flush;
    line_open_ = true;
  } else if (std::chrono::duration<double>(now - last_log_).count() >= log_every_s_ || step == total_steps_) {
    std::cerr << "r1lab train: " << text << "\n";
    last_log_ = now;
  }
}

void TrainLog::message(const std::string& text) {
  if (line_open_) std::cerr << "\r\033[K";
  std::cerr << "r1lab train: " << text << "\n";
  line_open_ = false;
}

void TrainLog::finish() {
  if (line_open_) std::cerr << "\n";
  line_open_ = false;
}

}  // namespace r1lab::trainer
