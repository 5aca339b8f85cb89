// reports/paper_tables.h — the DeepSeek-R1 paper's published numbers (Tables 2, 5, 6), as data.
//
// The numbers live in reports/paper_tables.json (percentages; Codeforces as a rating) and are compiled
// into the binary, so a report never needs the network or the paper. Column names are
// "<task>_<metric>", the same keys report rows use ("aime24_pass@1", "aime24_cons@64").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace r1lab::reports {

// {"columns": [...], "rows": {"model": [values...]}, "note": ...} for "table2", "table5" or "table6", with
// the rows in the paper's order (an ordered_json keeps the file's order); throws std::invalid_argument
// naming the known tables otherwise.
const nlohmann::ordered_json& paper_table(const std::string& name);

}  // namespace r1lab::reports
