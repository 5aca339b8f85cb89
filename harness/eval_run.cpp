#include "harness/eval_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <deque>
#include <iostream>
#include <thread>
#include <unordered_map>

#include "harness/progress.h"
#include "harness/results_writer.h"
#include "harness/run_config.h"
#include "harness/run_lock.h"
#include "harness/sample_store.h"
#include "tasks/grading/verdict_json.h"
#include "tasks/grading_service.h"
#include "tasks/registry.h"

namespace r1lab::harness {

namespace {

using Clock = std::chrono::steady_clock;
using tasks::GradeJob;
using tasks::GradeOutcome;
using tasks::GradingService;

constexpr int kMaxSamplesPerRequest = 64;

// Ctrl-C (or SIGTERM) asks the run to stop cleanly; a second Ctrl-C kills it (the store is safe either way).
std::atomic<bool> g_stop_requested{false};
void on_stop_signal(int signal) {
  g_stop_requested.store(true);
  std::signal(signal, SIG_DFL);
}

struct TaskRun {
  std::unique_ptr<tasks::Task> task;
  tasks::GradingConfig config;
  std::size_t problem_count = 0;    // the first problem_count problems (--limit)
  int n = 1;
  std::string grading_key;          // verdicts graded under other options are recomputed
  std::unordered_map<std::string, std::size_t> problem_index;
};

struct WorkUnit {
  std::uint32_t task = 0;
  std::uint32_t problem = 0;
  std::uint64_t first_sample = 0;
  std::uint32_t count = 1;
};

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
  return buffer;
}

// The request source and result sink of one run; both are called on the backend's thread only.
class GenerationDriver : public RequestSource, public ResultSink {
 public:
  GenerationDriver(const EvalOptions& options, std::vector<TaskRun>& runs, std::deque<WorkUnit> plan,
                   SampleStore& store, GradingService& grader, ProgressCounters& counters)
      : options_(options), runs_(runs), pending_(std::move(plan)), store_(store), grader_(grader), counters_(counters) {}

  std::optional<GenerationRequest> next() override {
    if (pending_.empty()) return std::nullopt;
    WorkUnit unit = pending_.front();
    pending_.pop_front();
    if (unit.count > 1 && one_per_request_) {  // the server answers one sample per request: split the rest
      for (std::uint32_t i = unit.count - 1; i >= 1; --i)
        pending_.push_front({unit.task, unit.problem, unit.first_sample + i, 1});
      unit.count = 1;
    }
    const TaskRun& run = runs_[unit.task];
    const auto& problem = run.task->problems()[unit.problem];
    GenerationRequest request;
    request.key = next_key_++;
    request.prompt = run.task->prompt(problem, unit.first_sample, run.config).text;
    request.sampling = options_.sampling;
    request.n = static_cast<int>(unit.count);
    if (options_.send_seed)
      request.seed = request_seed(options_.sampling_seed, run.task->info().name, problem.id, unit.first_sample);
    in_flight_.emplace(request.key, InFlight{unit, request.prompt, request.seed});
    return request;
  }

  void on_result(GenerationResult&& result) override {
    auto it = in_flight_.find(result.key);
    if (it == in_flight_.end()) return;
    InFlight flight = std::move(it->second);
    in_flight_.erase(it);
    const WorkUnit& unit = flight.unit;
    const TaskRun& run = runs_[unit.task];
    const auto& problem = run.task->problems()[unit.problem];

    RequestRecord record;
    record.task = run.task->info().name;
    record.problem_id = problem.id;
    record.first_sample = unit.first_sample;
    record.n = static_cast<int>(unit.count);
    record.seed = flight.seed;
    record.prompt = flight.prompt;
    record.http_status = result.http_status;
    record.attempts = result.attempts;
    record.latency_ms = result.latency_ms;
    record.prompt_tokens = result.prompt_tokens;
    record.completion_tokens = result.completion_tokens;
    record.error = result.error;
    std::vector<FinishedSample> samples;
    std::size_t got = std::min<std::size_t>(result.completions.size(), unit.count);
    for (std::size_t i = 0; i < got; ++i) {
      auto& completion = result.completions[i];
      if (completion.tokens < 0 && options_.count_tokens) completion.tokens = options_.count_tokens(completion.text);
      samples.push_back({unit.first_sample + i, std::move(completion.text), std::move(completion.finish_reason), completion.tokens});
    }
    store_.record(record, samples);   // committed: from here on a crash loses nothing of this request

    counters_.samples_done += static_cast<std::int64_t>(samples.size());
    if (result.completion_tokens > 0) counters_.completion_tokens += result.completion_tokens;
    if (!result.error.empty()) {
      ++counters_.failed_requests;
      last_error_ = result.error;
    }
    for (auto& s : samples)
      grader_.submit({unit.task, unit.problem, s.sample, std::move(s.completion), flight.prompt});
    if (result.error.empty() && got < unit.count) {
      // The server ignored n (it answered fewer choices): ask for the rest one sample per request.
      one_per_request_ = true;
      pending_.push_front({unit.task, unit.problem, unit.first_sample + got, static_cast<std::uint32_t>(unit.count - got)});
    }
  }

  void on_retry(const std::string&) override { ++counters_.retries; }

  const std::string& last_error() const { return last_error_; }
  bool one_per_request() const { return one_per_request_; }

 private:
  struct InFlight {
    WorkUnit unit;
    std::string prompt;
    std::optional<std::int64_t> seed;
  };
  const EvalOptions& options_;
  std::vector<TaskRun>& runs_;
  std::deque<WorkUnit> pending_;
  SampleStore& store_;
  GradingService& grader_;
  ProgressCounters& counters_;
  std::unordered_map<std::uint64_t, InFlight> in_flight_;
  std::uint64_t next_key_ = 1;
  bool one_per_request_ = false;
  std::string last_error_;
};

// Moves a store that must not be continued out of the way; never deletes anything.
void move_store_aside(const std::filesystem::path& out_dir) {
  auto database = out_dir / "samples.sqlite";
  if (!std::filesystem::exists(database)) return;
  auto aside = out_dir / ("replaced-" + utc_stamp());
  std::filesystem::create_directories(aside);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    auto file = out_dir / (std::string("samples.sqlite") + suffix);
    if (std::filesystem::exists(file)) std::filesystem::rename(file, aside / file.filename());
  }
  std::cerr << "eval: --restart: the previous samples are kept in " << aside.string() << "\n";
}

// What decides the samples (run_config.h): stored as the run's identity and reported in results.json.
nlohmann::json generation_identity(const EvalOptions& options) {
  nlohmann::json identity = {{"model", options.model},
          {"api", options.api},
          {"temperature", options.sampling.temperature},
          {"top_p", options.sampling.top_p},
          {"max_tokens", options.sampling.max_tokens},
          {"stop", options.sampling.stop},
          {"sampling_seed", options.sampling_seed},
          {"send_seed", options.send_seed}};
  if (!options.engine.is_null()) identity["engine"] = options.engine;
  return identity;
}

nlohmann::json current_run_config(const EvalOptions& options, const std::vector<TaskRun>& runs) {
  nlohmann::json generation = generation_identity(options);
  nlohmann::json task_specs = nlohmann::json::object();
  for (const auto& run : runs)
    task_specs[run.task->info().name] = {{"version", run.task->info().version},
                                         {"dataset_sha256", run.task->dataset_sha256()},
                                         {"prompt_template", std::string(tasks::prompt_template_name(run.config.prompt_template))},
                                         {"choice_seed", run.config.choice_seed},
                                         {"n", run.n},
                                         {"problems", run.problem_count}};
  return {{"generation", generation}, {"tasks", task_specs}};
}

}  // namespace

std::int64_t request_seed(std::uint64_t sampling_seed, const std::string& task, const std::string& problem_id,
                          std::uint64_t first_sample) {
  std::uint64_t h = splitmix(sampling_seed);
  h = fnv1a(task, h);
  h = fnv1a(std::string_view("\x1f", 1), h);
  h = fnv1a(problem_id, h);
  h = splitmix(h ^ splitmix(first_sample));
  return static_cast<std::int64_t>(h & 0x7fffffffu);
}

EvalOutcome run_eval(const EvalOptions& options, GenerationBackend& backend) {
  auto started = Clock::now();
  if (options.tasks.empty()) throw std::invalid_argument("--task: name at least one task (`r1lab tasks` lists them)");
  if (options.n && *options.n < 1) throw std::invalid_argument("-n must be at least 1");
  if (options.samples_per_request < 0) throw std::invalid_argument("--samples-per-request must be 0 (auto) or more");

  // Tasks, their data and the grading environment, before anything is sent.
  auto data = tasks::DataDirectory::resolve(options.data_dir);
  std::vector<TaskRun> runs;
  for (const auto& name : options.tasks) {
    for (const auto& other : runs)
      if (other.task->info().name == name) throw std::invalid_argument("--task names '" + name + "' twice");
    TaskRun run;
    run.task = tasks::make_task(name);
    run.task->load(data);
    run.config = options.grading;
    run.task->check_grading_environment(run.config);
    run.problem_count = options.limit > 0 ? std::min(options.limit, run.task->problems().size()) : run.task->problems().size();
    run.n = options.n.value_or(run.task->info().default_samples);
    // A k the run cannot reach is refused now, not after hours of generation.
    for (const auto& [flag, asked] : {std::pair{"--pass-k", &options.pass_k}, std::pair{"--cons-k", &options.cons_k}})
      for (int k : *asked)
        if (k < 1 || k > run.n)
          throw std::invalid_argument(fmt::format("{} {}: {} runs n={} samples per problem; each k must be between 1 and n "
                                                  "(raise -n or drop this k)", flag, k, name, run.n));
    run.grading_key = tasks::sha256_text(fmt::format("{}\x1f{}\x1f{}", run.task->info().name, run.task->info().version,
                                                     run.task->grading_options(run.config).dump()));
    for (std::size_t p = 0; p < run.problem_count; ++p) run.problem_index.emplace(run.task->problems()[p].id, p);
    runs.push_back(std::move(run));
  }

  // The run directory: one process at a time, the same experiment or --restart.
  std::filesystem::create_directories(options.out_dir);
  RunDirectoryLock lock(options.out_dir);
  if (options.restart) move_store_aside(options.out_dir);
  SampleStore store(options.out_dir / "samples.sqlite");
  nlohmann::json config = current_run_config(options, runs);
  if (auto stored = store.config()) {
    auto differences = run_config_differences(*stored, config);
    if (!differences.empty()) {
      std::string list;
      for (const auto& d : differences) list += "\n  " + d;
      throw std::runtime_error(fmt::format("{} holds samples of a different run:{}\nPass --restart to start over (the old "
                                           "samples are moved aside, not deleted), or use another --out",
                                           options.out_dir.string(), list));
    }
    config = merged_run_config(*stored, config);
  }
  backend.check();
  store.set_config(config);

  // The plan: missing samples, grouped into requests; stored samples whose verdict is missing or stale.
  std::deque<WorkUnit> plan;
  std::int64_t to_generate = 0, already = 0;
  std::vector<GradeJob> regrade;
  for (std::uint32_t t = 0; t < runs.size(); ++t) {
    TaskRun& run = runs[t];
    const std::string& name = run.task->info().name;
    auto stored = store.stored_samples(name);
    int per_request = options.samples_per_request > 0 ? options.samples_per_request : kMaxSamplesPerRequest;
    if (run.task->prompt_varies_per_sample()) per_request = 1;  // GPQA: each sample has its own shuffle
    for (std::uint32_t p = 0; p < run.problem_count; ++p) {
      std::vector<bool> have(static_cast<std::size_t>(run.n), false);
      auto it = stored.find(run.task->problems()[p].id);
      if (it != stored.end())
        for (auto s : it->second)
          if (s < have.size()) have[s] = true;
      for (std::uint64_t s = 0; s < have.size();) {
        if (have[s]) { ++already; ++s; continue; }
        std::uint64_t end = s;
        while (end < have.size() && !have[end] && end - s < static_cast<std::uint64_t>(per_request)) ++end;
        plan.push_back({t, p, s, static_cast<std::uint32_t>(end - s)});
        to_generate += static_cast<std::int64_t>(end - s);
        s = end;
      }
    }
    store.for_each_sample(name, true, [&](StoredSample&& s) {
      auto p = run.problem_index.find(s.problem_id);
      if (p == run.problem_index.end() || s.sample >= static_cast<std::uint64_t>(run.n)) return;
      if (s.verdict_json && s.grading_key == run.grading_key) return;
      regrade.push_back({t, static_cast<std::uint32_t>(p->second), s.sample, std::move(s.completion), std::move(s.prompt)});
    });
  }

  // Grading runs in its own process, forked now, before the generation thread exists.
  std::vector<tasks::GradingTaskSpec> specs;
  for (const auto& run : runs)
    specs.push_back({run.task.get(), run.config, std::max(options.hard_deadline, run.task->grading_deadline(run.config))});
  GradingService grader(specs, options.workers, {lock.fd()});

  bool live = options.progress == ProgressMode::live || (options.progress == ProgressMode::automatic && is_terminal(stderr));
  ProgressMeter progress(to_generate, already, options.progress == ProgressMode::none ? nullptr : stderr, live);
  std::cerr << fmt::format("eval: {} -> {}: {} samples to generate, {} stored, {} to grade\n", backend.describe(),
                           options.out_dir.string(), to_generate, already, regrade.size() + static_cast<std::size_t>(to_generate));

  g_stop_requested.store(false);
  auto previous_int = std::signal(SIGINT, on_stop_signal);
  auto previous_term = std::signal(SIGTERM, on_stop_signal);
  struct RestoreSignals {
    void (*int_handler)(int);
    void (*term_handler)(int);
    ~RestoreSignals() {
      std::signal(SIGINT, int_handler);
      std::signal(SIGTERM, term_handler);
    }
  } restore{previous_int, previous_term};

  for (auto& job : regrade) grader.submit(std::move(job));
  regrade.clear();
  regrade.shrink_to_fit();

  GenerationDriver driver(options, runs, std::move(plan), store, grader, progress.counters);
  std::atomic<bool> generation_done{false};
  std::exception_ptr generation_error;
  std::thread generation([&] {
    try {
      backend.run(driver, driver, g_stop_requested);
    } catch (...) {
      generation_error = std::current_exception();
    }
    generation_done.store(true);
  });
  // Whatever throws below, the generation thread is stopped and joined first.
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) {
        g_stop_requested.store(true);
        thread.join();
      }
    }
  } join_on_exit{generation};

  auto store_verdicts = [&](std::vector<GradeOutcome> outcomes) {
    std::vector<VerdictUpdate> updates;
    updates.reserve(outcomes.size());
    for (auto& o : outcomes) {
      const TaskRun& run = runs[o.task];
      ++progress.counters.graded;
      if (o.verdict.is_correct()) ++progress.counters.correct;
      // The store keeps verdicts as their JSON text (tasks/grading/verdict_json.h).
      updates.push_back({run.task->info().name, run.task->problems()[o.problem].id, o.sample,
                         grading::verdict_to_json(o.verdict).dump(), run.grading_key, o.milliseconds});
    }
    store.set_verdicts(updates);
  };
  while (!generation_done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    store_verdicts(grader.take_finished());
    progress.print();
    if (!grader.failure().empty()) g_stop_requested.store(true);
  }
  generation.join();
  bool interrupted = g_stop_requested.load() && grader.failure().empty() && !generation_error;
  if (interrupted || generation_error || !grader.failure().empty()) {
    grader.abort();
  } else {
    while (grader.outstanding() > 0 && !g_stop_requested.load() && grader.failure().empty()) {
      store_verdicts(grader.take_finished());
      progress.print();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (g_stop_requested.load()) {
      interrupted = true;
      grader.abort();
    } else {
      grader.finish();
    }
  }
  store_verdicts(grader.take_finished());
  progress.print(true);
  progress.finish();

  auto stored_line = [&] {
    return fmt::format("{} samples are stored in {}", progress.counters.samples_done.load() + already, store.path().string());
  };
  if (generation_error) {
    try {
      std::rethrow_exception(generation_error);
    } catch (const std::exception& error) {
      throw std::runtime_error(fmt::format("{}\n{}; nothing finished is lost: fix the cause and rerun the same command "
                                           "to resume", error.what(), stored_line()));
    }
  }
  if (!grader.failure().empty())
    throw std::runtime_error(fmt::format("grading stopped: {}. {}; rerun the same command to grade and resume",
                                         grader.failure(), stored_line()));
  EvalOutcome outcome;
  if (interrupted) {
    outcome.exit_code = 130;
    outcome.message = fmt::format("eval: stopped. {}; to resume, rerun the same command{}", stored_line(),
                                  options.resume_command.empty() ? "" : ":\n  " + options.resume_command);
    return outcome;
  }

  // Results per task, from the store.
  std::int64_t missing_total = 0;
  for (auto& run : runs) {
    const std::string& name = run.task->info().name;
    ResultsRequest request;
    request.task = run.task.get();
    request.data = &data;
    request.config = run.config;
    std::size_t missing_verdicts = 0;
    std::vector<std::int64_t> characters;   // per sample, for when some token count is unknown
    bool all_tokens = true;
    // With a token counter, samples stored without a count (an earlier run without --tokenizer) are counted
    // from their texts now.
    store.for_each_sample(name, static_cast<bool>(options.count_tokens), [&](StoredSample&& s) {
      auto p = run.problem_index.find(s.problem_id);
      if (p == run.problem_index.end() || s.sample >= static_cast<std::uint64_t>(run.n)) return;
      if (!s.verdict_json || s.grading_key != run.grading_key) {
        ++missing_verdicts;
        return;
      }
      if (s.completion_tokens < 0 && options.count_tokens) s.completion_tokens = options.count_tokens(s.completion);
      GradedSample graded;
      graded.problem_index = p->second;
      graded.sample_index = s.sample;
      graded.verdict = grading::verdict_from_json(nlohmann::json::parse(*s.verdict_json));
      graded.grading_ms = s.grading_ms;
      graded.length = s.completion_tokens;
      graded.truncated = s.finish_reason == "length";
      graded.finish_reason = s.finish_reason;
      graded.tokens = s.completion_tokens;
      all_tokens = all_tokens && s.completion_tokens >= 0;
      characters.push_back(s.completion_characters);
      request.samples.push_back(std::move(graded));
    });
    // Lengths in tokens when every sample has its count (the built-in engine, one sample per request),
    // else in characters for all of them (servers report usage per request, not per choice).
    if (!all_tokens) {
      request.length_unit = "characters";
      for (std::size_t i = 0; i < request.samples.size(); ++i) request.samples[i].length = characters[i];
    }
    request.lengths_counted_by = options.count_tokens ? "the backend, else " + options.token_counter_name : "the backend";
    if (missing_verdicts > 0)
      throw std::runtime_error(fmt::format("{}: {} samples have no verdict; rerun the same command to grade them", name, missing_verdicts));
    std::int64_t expected = static_cast<std::int64_t>(run.problem_count) * run.n;
    std::int64_t missing = expected - static_cast<std::int64_t>(request.samples.size());
    missing_total += missing;
    if (missing > 0 && !options.allow_partial) continue;
    StoreTotals totals = store.totals(name);
    request.model = options.label.empty() ? options.model : options.label;
    request.allow_partial = options.allow_partial;
    request.pass_k = options.pass_k;
    request.cons_k = options.cons_k;
    request.problem_limit = run.problem_count;
    request.samples_origin = store.path().string() + " (" + name + ")";
    request.partial_fix = "rerun the same command to generate the missing samples";
    request.any_think_tag = [&store, &name] {   // reads the texts, one at a time; only when the hint may apply
      bool seen = false;
      store.for_each_sample(name, true, [&](StoredSample&& s) { seen = seen || shows_think_tag(s.completion, s.prompt); });
      return seen;
    };
    nlohmann::json generation = generation_identity(options);
    generation.update({{"backend", backend.describe()},
                        {"one_sample_per_request", driver.one_per_request() || options.samples_per_request == 1},
                        {"store", store.path().string()},
                        {"requests", totals.requests},
                        {"failed_requests", totals.failed_requests},
                        {"retries", totals.retries},
                        {"prompt_tokens", totals.prompt_tokens},
                        {"completion_tokens", totals.completion_tokens},
                        {"truncated_samples", totals.truncated},
                        {"mean_latency_ms", totals.mean_latency_ms},
                        {"wall_s", std::chrono::duration<double>(Clock::now() - started).count()}});
    request.source = {{"generation", generation}};
    request.started = started;
    request.workers = options.workers;
    request.hard_deadline = std::max(options.hard_deadline, run.task->grading_deadline(run.config));
    outcome.results.push_back(write_results(std::move(request), options.out_dir / name));
  }
  if (missing_total > 0 && !options.allow_partial) {
    outcome.exit_code = 1;
    outcome.message = fmt::format("eval: {} samples are missing because {} requests failed for good (the last: {}). {}; "
                                  "rerun the same command to retry them, or pass --allow-partial to score what is there",
                                  missing_total, progress.counters.failed_requests.load(),
                                  driver.last_error().empty() ? "see the requests table" : driver.last_error(), stored_line());
  }
  return outcome;
}

}  // namespace r1lab::harness
