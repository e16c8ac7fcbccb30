#include "medtwin/security/deidentify.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "medtwin/core/text.h"
#include "medtwin/security/merkle.h"

namespace medtwin::security {
namespace {

using nlohmann::json;

std::uint64_t KeyedNumber(const SigningKey& secret, const std::string& label) {
  const std::string mac = HmacSha256(secret.bytes, label);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(mac[static_cast<std::size_t>(i)]);
  return v;
}

// Whole years between a YYYY-MM-DD birth date and `at`; -1 if unknown.
int AgeYears(const json& record, Instant at) {
  if (!record.contains("birth_date") || !record["birth_date"].is_string()) return -1;
  auto born = ParseRfc3339(record["birth_date"].get<std::string>() + "T00:00:00Z");
  if (!born.ok()) return -1;
  const std::string b = FormatRfc3339(*born), now = FormatRfc3339(at);
  const auto year_now = ParseInt64(now.substr(0, 4)), year_born = ParseInt64(b.substr(0, 4));
  if (!year_now || !year_born) return -1;
  int years = static_cast<int>(*year_now - *year_born);
  if (now.substr(5, 5) < b.substr(5, 5)) --years;  // birthday not reached this year
  return years;
}

// The age as released at generalization `level` (0: years … 3: 20-year bands); over 89 is
// always "90+" (Safe Harbor).
std::string AgeLabel(int age, int level) {
  if (age < 0) return "unknown";
  if (age >= 90) return "90+";
  if (level == 0) return std::to_string(age);
  const int width = level == 1 ? 5 : level == 2 ? 10 : 20;
  const int lo = age / width * width;
  const int hi = std::min(lo + width - 1, 89);
  return std::to_string(lo) + "-" + std::to_string(hi);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return Error{ErrorCode::kIoError, path.string(), "cannot write"};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error{ErrorCode::kIoError, path.string(), "cannot write"};
  }
  return Ok{};
}

}  // namespace

std::optional<std::string> ConditionCode(const std::string& condition) {
  static const std::regex kSnomed(R"((?:SNOMED|SCT|snomed|sct)[: ]?([0-9]{6,18}))");
  static const std::regex kSnomedUri(R"(http://snomed\.info/sct\|([0-9]{6,18}))");
  static const std::regex kDigits(R"([0-9]{6,18})");
  static const std::regex kIcd10(
      R"((?:ICD-?10(?:-CM)?[: ]?)?([A-Z][0-9][0-9AB](?:\.[0-9A-TV-Z]{1,4})?))");
  std::smatch m;
  if (std::regex_match(condition, m, kSnomed) || std::regex_match(condition, m, kSnomedUri)) {
    return "SNOMED:" + m[1].str();
  }
  if (std::regex_match(condition, kDigits)) return "SNOMED:" + condition;
  if (std::regex_match(condition, m, kIcd10)) return "ICD-10:" + m[1].str();
  return std::nullopt;
}

std::string Pseudonym(const SigningKey& secret, const std::string& salt,
                      const std::string& patient_id) {
  return "R-" + ToHex(HmacSha256(secret.bytes, "medtwin pseudonym v2:" + salt + "\n" + patient_id)
                          .substr(0, 6));
}

std::int64_t DateShiftUs(const SigningKey& secret, const std::string& salt,
                         const std::string& patient_id) {
  // 1..365 days earlier: never zero, so no date is released as it was.
  const std::int64_t days =
      1 + static_cast<std::int64_t>(
              KeyedNumber(secret, "medtwin date shift v2:" + salt + "\n" + patient_id) % 365);
  return -days * 86'400'000'000LL;
}

int EmbargoDays(const SigningKey& secret, const DeidentifyOptions& options,
                const std::string& patient_id) {
  const int span = std::max(0, options.embargo_max_days - options.embargo_min_days) + 1;
  return options.embargo_min_days +
         static_cast<int>(
             KeyedNumber(secret, "medtwin embargo v1:" + options.salt + "\n" + patient_id) %
             static_cast<std::uint64_t>(span));
}

DeidentifiedCohort Deidentify(const std::vector<IdentifiedPatient>& patients,
                              const SigningKey& secret, const DeidentifyOptions& options) {
  DeidentifiedCohort out;
  out.k = options.k;
  struct Row {
    const IdentifiedPatient* p;
    int age;
    std::string sex;
    std::vector<std::string> conditions;  // codes only, sorted
    std::string condition_key;
  };
  std::vector<Row> rows;
  for (const auto& p : patients) {
    Row r{&p, AgeYears(p.record, options.as_of), p.record.value("sex", "unknown"), {}, ""};
    for (const auto& c : p.record.value("conditions", json::array())) {
      if (!c.is_string()) continue;
      if (auto code = ConditionCode(c.get<std::string>())) r.conditions.push_back(*code);
    }
    std::sort(r.conditions.begin(), r.conditions.end());
    r.conditions.erase(std::unique(r.conditions.begin(), r.conditions.end()), r.conditions.end());
    for (const auto& c : r.conditions) r.condition_key += c + ";";
    rows.push_back(std::move(r));
  }
  // The quasi-identifiers: age (as released at a level), sex and the condition codes.
  auto key = [](const Row& r, int level) {
    return AgeLabel(r.age, level) + "|" + r.sex + "|" + r.condition_key;
  };
  // The least generalization that leaves at most 5 % of patients in classes under k; failing
  // that, the coarsest.
  static const char* kNames[] = {"years", "5-year bands", "10-year bands", "20-year bands"};
  int level = 3;
  for (int l = 0; l <= 3; ++l) {
    std::map<std::string, int> classes;
    for (const auto& r : rows) ++classes[key(r, l)];
    int small = 0;
    for (const auto& r : rows) small += classes[key(r, l)] < options.k ? 1 : 0;
    if (small * 20 <= static_cast<int>(rows.size())) {
      level = l;
      break;
    }
  }
  out.age_generalization = kNames[level];
  std::map<std::string, int> classes;
  for (const auto& r : rows) ++classes[key(r, level)];
  constexpr std::int64_t kDayUs = 86'400'000'000LL;
  for (const auto& r : rows) {
    if (classes[key(r, level)] < options.k) {
      ++out.suppressed;
      continue;
    }
    const std::string id = r.p->record.value("id", "");
    const std::string pseudonym = Pseudonym(secret, options.salt, id);
    const std::int64_t shift = DateShiftUs(secret, options.salt, id);
    const std::int64_t newest_released =
        options.as_of.us_since_epoch - EmbargoDays(secret, options, id) * kDayUs;
    out.patients.push_back({{"id", pseudonym},
                            {"sex", r.sex},
                            {"age", AgeLabel(r.age, level)},
                            {"conditions", r.conditions},
                            {"models", r.p->record.value("models", json::array())}});
    for (const auto& o : r.p->observations) {
      if (o.time.us_since_epoch > newest_released) continue;  // the embargo
      const record::ObservationCode* code = record::FindObservationCode(o.code);
      // Shifted, then generalized to the day (floor: times before 1970 round down too).
      std::int64_t t = o.time.us_since_epoch + shift;
      t = (t >= 0 ? t / kDayUs : (t - kDayUs + 1) / kDayUs) * kDayUs;
      json row = {{"patient", pseudonym}, {"code", o.code}, {"time", FormatRfc3339(Instant{t})}};
      if (code != nullptr && code->coded) {
        row["value"] = o.text;
      } else {
        row["value"] = o.value;
        row["unit"] = code != nullptr ? std::string(code->unit) : "";
      }
      out.observations.push_back(std::move(row));
    }
  }
  return out;
}

Status WriteCohortCsv(const DeidentifiedCohort& c, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string patients = "id,sex,age,conditions\n";
  for (const auto& p : c.patients) {
    std::string conditions;
    for (const auto& x : p["conditions"])
      conditions += (conditions.empty() ? "" : ";") + x.get<std::string>();
    patients += CsvField(p["id"]) + "," + CsvField(p["sex"]) + "," + CsvField(p["age"]) + "," +
                CsvField(conditions) + "\n";
  }
  std::string obs = "patient,code,time,value,unit\n";
  for (const auto& o : c.observations) {
    const std::string value =
        o["value"].is_string() ? o["value"].get<std::string>() : o["value"].dump();
    obs += CsvField(o["patient"]) + "," + CsvField(o["code"]) + "," + CsvField(o["time"]) + "," +
           CsvField(value) + "," + CsvField(o.value("unit", "")) + "\n";
  }
  MEDTWIN_RETURN_IF_ERROR(WriteFile(std::filesystem::path(dir) / "patients.csv", patients));
  return WriteFile(std::filesystem::path(dir) / "observations.csv", obs);
}

Status WriteCohortFhirNdjson(const DeidentifiedCohort& c, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string patients, obs;
  for (const auto& p : c.patients) {
    const json label = {{"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"},
                        {"code", "PSEUDED"},
                        {"display", "pseudonymized"}};
    const json age = {{"url", "https://medtwin.example/fhir/StructureDefinition/age-group"},
                      {"valueString", p["age"]}};
    json r = {{"resourceType", "Patient"}, {"id", p["id"]}, {"gender", p["sex"]}};
    r["meta"]["security"] = json::array({label});
    r["extension"] = json::array({age});
    patients += r.dump() + "\n";
  }
  std::size_t n = 0;
  for (const auto& o : c.observations) {
    json r = {{"resourceType", "Observation"},
              {"id", "obs-" + std::to_string(++n)},
              {"status", "final"},
              {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", o["code"]}}}}}},
              {"subject", {{"reference", "Patient/" + o["patient"].get<std::string>()}}},
              {"effectiveDateTime", o["time"]}};
    if (o["value"].is_string()) {
      r["valueString"] = o["value"];
    } else {
      r["valueQuantity"] = {{"value", o["value"]},
                            {"system", "http://unitsofmeasure.org"},
                            {"code", o.value("unit", "")}};
    }
    obs += r.dump() + "\n";
  }
  MEDTWIN_RETURN_IF_ERROR(WriteFile(std::filesystem::path(dir) / "Patient.ndjson", patients));
  return WriteFile(std::filesystem::path(dir) / "Observation.ndjson", obs);
}

}  // namespace medtwin::security
