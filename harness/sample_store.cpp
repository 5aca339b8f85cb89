#include "harness/sample_store.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <stdexcept>

namespace r1lab::harness {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests(
  id INTEGER PRIMARY KEY,
  task TEXT NOT NULL, problem_id TEXT NOT NULL, first_sample INTEGER NOT NULL, n INTEGER NOT NULL,
  seed INTEGER, prompt TEXT NOT NULL, http_status INTEGER, attempts INTEGER NOT NULL, latency_ms REAL,
  prompt_tokens INTEGER, completion_tokens INTEGER, returned INTEGER NOT NULL, error TEXT,
  finished_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
CREATE TABLE IF NOT EXISTS samples(
  task TEXT NOT NULL, problem_id TEXT NOT NULL, sample INTEGER NOT NULL,
  request_id INTEGER NOT NULL, completion TEXT NOT NULL, finish_reason TEXT, completion_tokens INTEGER,
  verdict TEXT, grading_key TEXT, grading_ms REAL,
  PRIMARY KEY(task, problem_id, sample)) WITHOUT ROWID;
)sql";

constexpr const char* kInsertRequest =
    "INSERT INTO requests(task, problem_id, first_sample, n, seed, prompt, http_status, attempts, latency_ms, "
    "prompt_tokens, completion_tokens, returned, error) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kInsertSample =
    "INSERT INTO samples(task, problem_id, sample, request_id, completion, finish_reason, completion_tokens) "
    "VALUES(?,?,?,?,?,?,?)";

sqlite3_stmt* prepare(sqlite3* db, const char* sql, const std::filesystem::path& path) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    throw std::runtime_error(fmt::format("{}: SQLite prepare failed: {}", path.string(), sqlite3_errmsg(db)));
  return stmt;
}

// One statement: prepared here (and finalized on scope exit), or one prepared once and borrowed (reset on
// scope exit so the next use starts clean).
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::filesystem::path& path)
      : db_(db), stmt_(prepare(db, sql, path)), owned_(true), path_(path) {}
  Statement(sqlite3* db, sqlite3_stmt* borrowed, const std::filesystem::path& path)
      : db_(db), stmt_(borrowed), owned_(false), path_(path) {}
  ~Statement() {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& text) {
    check(sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC));
    return *this;
  }
  Statement& bind(int i, std::int64_t value) { check(sqlite3_bind_int64(stmt_, i, value)); return *this; }
  Statement& bind(int i, double value) { check(sqlite3_bind_double(stmt_, i, value)); return *this; }
  Statement& bind_null(int i) { check(sqlite3_bind_null(stmt_, i)); return *this; }
  Statement& bind_optional(int i, std::int64_t value) { return value < 0 ? bind_null(i) : bind(i, value); }

  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  void run() {
    step();
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int column) const {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : "";
  }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column, std::int64_t if_null = 0) const {
    return is_null(column) ? if_null : sqlite3_column_int64(stmt_, column);
  }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
  }
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(fmt::format("{}: SQLite {} failed: {}", path_.string(), what, sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool owned_ = true;
  const std::filesystem::path& path_;
};

}  // namespace

SampleStore::SampleStore(const std::filesystem::path& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error(fmt::format("{}: cannot open the sample store: {}", path.string(), message));
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec(kSchema);
    Statement version(db_, "SELECT value FROM meta WHERE key='schema_version'", path_);
    if (version.step()) {
      if (version.text(0) != std::to_string(kSchemaVersion))
        throw std::runtime_error(fmt::format("{}: written by another r1lab (store schema {}, this one reads {}); "
                                             "use that version, or pass --restart to start over",
                                             path.string(), version.text(0), kSchemaVersion));
    } else {
      Statement insert(db_, "INSERT INTO meta(key, value) VALUES('schema_version', ?)", path_);
      insert.bind(1, std::to_string(kSchemaVersion)).run();
    }
    insert_request_ = prepare(db_, kInsertRequest, path_);
    insert_sample_ = prepare(db_, kInsertSample, path_);
  } catch (...) {
    sqlite3_finalize(insert_request_);
    sqlite3_close(db_);
    throw;
  }
}

SampleStore::~SampleStore() {
  sqlite3_finalize(insert_request_);
  sqlite3_finalize(insert_sample_);
  sqlite3_close(db_);
}

void SampleStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw std::runtime_error(fmt::format("{}: SQLite failed: {}", path_.string(), message));
  }
}

std::optional<nlohmann::json> SampleStore::config() {
  std::lock_guard lock(mutex_);
  Statement query(db_, "SELECT value FROM meta WHERE key='config'", path_);
  if (!query.step()) return std::nullopt;
  auto json = nlohmann::json::parse(query.text(0), nullptr, false);
  if (json.is_discarded()) throw std::runtime_error(path_.string() + ": the stored run configuration is not JSON");
  return json;
}

void SampleStore::set_config(const nlohmann::json& config) {
  std::lock_guard lock(mutex_);
  Statement upsert(db_, "INSERT INTO meta(key, value) VALUES('config', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", path_);
  upsert.bind(1, config.dump()).run();
}

void SampleStore::record(const RequestRecord& request, const std::vector<FinishedSample>& samples) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Statement insert_request(db_, insert_request_, path_);
    insert_request.bind(1, request.task).bind(2, request.problem_id)
        .bind(3, static_cast<std::int64_t>(request.first_sample)).bind(4, static_cast<std::int64_t>(request.n));
    if (request.seed) insert_request.bind(5, *request.seed); else insert_request.bind_null(5);
    insert_request.bind(6, request.prompt).bind(7, static_cast<std::int64_t>(request.http_status))
        .bind(8, static_cast<std::int64_t>(request.attempts)).bind(9, request.latency_ms)
        .bind_optional(10, request.prompt_tokens).bind_optional(11, request.completion_tokens)
        .bind(12, static_cast<std::int64_t>(samples.size()));
    if (request.error.empty()) insert_request.bind_null(13); else insert_request.bind(13, request.error);
    insert_request.run();
    std::int64_t request_id = sqlite3_last_insert_rowid(db_);
    if (!samples.empty()) {
      Statement insert_sample(db_, insert_sample_, path_);
      // A sample's tokens: its own count when the backend has one (the built-in engine); else the request's
      // usage when it had one sample (usage covers all choices); else unknown.
      for (const auto& s : samples) {
        std::int64_t tokens = s.tokens >= 0 ? s.tokens : samples.size() == 1 ? request.completion_tokens : -1;
        insert_sample.bind(1, request.task).bind(2, request.problem_id).bind(3, static_cast<std::int64_t>(s.sample))
            .bind(4, request_id).bind(5, s.completion).bind(6, s.finish_reason).bind_optional(7, tokens);
        insert_sample.run();
      }
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SampleStore::set_verdicts(const std::vector<VerdictUpdate>& updates) {
  if (updates.empty()) return;
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Statement update(db_, "UPDATE samples SET verdict=?, grading_key=?, grading_ms=? WHERE task=? AND problem_id=? AND sample=?", path_);
    for (const auto& u : updates) {
      update.bind(1, u.verdict_json).bind(2, u.grading_key).bind(3, u.grading_ms).bind(4, u.task).bind(5, u.problem_id)
          .bind(6, static_cast<std::int64_t>(u.sample));
      update.run();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::map<std::string, std::vector<std::uint64_t>> SampleStore::stored_samples(const std::string& task) {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::vector<std::uint64_t>> result;
  Statement query(db_, "SELECT problem_id, sample FROM samples WHERE task=? ORDER BY problem_id, sample", path_);
  query.bind(1, task);
  while (query.step()) result[query.text(0)].push_back(static_cast<std::uint64_t>(query.integer(1)));
  return result;
}

void SampleStore::for_each_sample(const std::string& task, bool with_text,
                                  const std::function<void(StoredSample&&)>& visit) {
  std::lock_guard lock(mutex_);
  const char* sql = with_text
      ? "SELECT s.problem_id, s.sample, s.finish_reason, s.completion_tokens, s.verdict, s.grading_key, s.grading_ms, "
        "length(s.completion), s.completion, r.prompt FROM samples s JOIN requests r ON r.id = s.request_id WHERE s.task=? "
        "ORDER BY s.problem_id, s.sample"
      : "SELECT problem_id, sample, finish_reason, completion_tokens, verdict, grading_key, grading_ms, length(completion) "
        "FROM samples WHERE task=? ORDER BY problem_id, sample";
  Statement query(db_, sql, path_);
  query.bind(1, task);
  while (query.step()) {
    StoredSample s;
    s.problem_id = query.text(0);
    s.sample = static_cast<std::uint64_t>(query.integer(1));
    s.finish_reason = query.text(2);
    s.completion_tokens = query.integer(3, -1);
    if (!query.is_null(4)) s.verdict_json = query.text(4);
    s.grading_key = query.text(5);
    s.grading_ms = query.real(6);
    s.completion_characters = query.integer(7, 0);
    if (with_text) {
      s.completion = query.text(8);
      s.prompt = query.text(9);
    }
    visit(std::move(s));
  }
}

StoreTotals SampleStore::totals(const std::string& task) {
  std::lock_guard lock(mutex_);
  StoreTotals totals;
  Statement requests(db_,
      "SELECT count(*), sum(error IS NOT NULL), sum(attempts - 1), sum(max(prompt_tokens, 0)), "
      "sum(max(completion_tokens, 0)), avg(latency_ms) FROM requests WHERE task=?", path_);
  requests.bind(1, task);
  if (requests.step()) {
    totals.requests = requests.integer(0);
    totals.failed_requests = requests.integer(1);
    totals.retries = requests.integer(2);
    totals.prompt_tokens = requests.integer(3);
    totals.completion_tokens = requests.integer(4);
    totals.mean_latency_ms = requests.real(5);
  }
  Statement samples(db_, "SELECT count(*), sum(finish_reason = 'length') FROM samples WHERE task=?", path_);
  samples.bind(1, task);
  if (samples.step()) {
    totals.samples = samples.integer(0);
    totals.truncated = samples.integer(1);
  }
  return totals;
}

std::vector<std::string> SampleStore::tasks() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  Statement query(db_, "SELECT DISTINCT task FROM samples ORDER BY task", path_);
  while (query.step()) names.push_back(query.text(0));
  return names;
}

}  // namespace r1lab::harness
