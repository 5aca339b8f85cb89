#include "reports/paper_tables.h"

#include <stdexcept>

namespace r1lab::reports {

namespace {
// paper_tables.json, embedded at build time (see reports/CMakeLists.txt).
constexpr char kPaperTablesJson[] = {
#include "paper_tables.json.inc"
    , 0};
}  // namespace

const nlohmann::ordered_json& paper_table(const std::string& name) {
  static const nlohmann::ordered_json tables = nlohmann::ordered_json::parse(kPaperTablesJson)["tables"];
  if (!tables.contains(name)) throw std::invalid_argument("unknown paper table '" + name + "'; use table2, table5 or table6");
  return tables[name];
}

}  // namespace r1lab::reports
