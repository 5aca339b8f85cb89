#include "tasks/grading/verdict_json.h"

namespace r1lab::grading {

nlohmann::json verdict_to_json(const grading::Verdict& v) {
  nlohmann::json j = {{"verdict", grading::verdict_kind_name(v.kind)}, {"extracted", v.extracted},
                      {"canonical", v.canonical}, {"reason", v.reason}};
  if (!v.status.empty()) j["status"] = v.status;
  if (v.tests_total >= 0) {
    j["tests_passed"] = v.tests_passed;
    j["tests_total"] = v.tests_total;
  }
  return j;
}

grading::Verdict verdict_from_json(const nlohmann::json& j) {
  return {grading::verdict_kind_from_name(j.at("verdict").get<std::string>()), j.at("extracted").get<std::string>(),
          j.at("canonical").get<std::string>(), j.at("reason").get<std::string>(), j.value("status", ""),
          j.value("tests_passed", -1), j.value("tests_total", -1)};
}

}  // namespace r1lab::grading
