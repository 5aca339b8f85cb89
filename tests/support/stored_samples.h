// tests/support/stored_samples.h — a run's samples read straight from samples.sqlite with SQLite, not
// through r1lab's own store code, so the tests check what is really on disk.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <string>

namespace r1lab::testing {

// (problem id, sample) -> completion. A duplicate (impossible by the schema) fails the test.
inline std::map<std::pair<std::string, long>, std::string> stored_samples(const std::filesystem::path& run_dir,
                                                                          const std::string& task) {
  std::map<std::pair<std::string, long>, std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((run_dir / "samples.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT problem_id, sample, completion FROM samples WHERE task=?", -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, task.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    auto key = std::make_pair(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))),
                              static_cast<long>(sqlite3_column_int64(stmt, 1)));
    EXPECT_TRUE(rows.emplace(key, reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2))).second) << "duplicate sample";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

}  // namespace r1lab::testing
