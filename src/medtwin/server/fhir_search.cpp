#include "medtwin/server/fhir_search.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace medtwin::server {
namespace {

bool Lenient(const Request& req) {
  auto it = req.find("Prefer");
  if (it == req.end()) return false;
  const auto value = it->value();
  return std::string_view(value.data(), value.size()).find("handling=lenient") !=
         std::string_view::npos;
}

std::vector<std::string> SplitCommas(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    out.push_back(value.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The first and last day (as YYYYMMDD numbers) that a YYYY, YYYY-MM or YYYY-MM-DD covers.
std::optional<std::pair<int, int>> DayRange(std::string_view date) {
  auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
    if (date.size() < at + len) return std::nullopt;
    int v = 0;
    auto [p, ec] = std::from_chars(date.data() + at, date.data() + at + len, v);
    if (ec != std::errc() || p != date.data() + at + len) return std::nullopt;
    return v;
  };
  const auto year = number(0, 4);
  if (!year) return std::nullopt;
  if (date.size() == 4) return std::pair{*year * 10000 + 101, *year * 10000 + 1231};
  if (date[4] != '-') return std::nullopt;
  const auto month = number(5, 2);
  if (!month || *month < 1 || *month > 12) return std::nullopt;
  if (date.size() == 7) {
    return std::pair{*year * 10000 + *month * 100 + 1, *year * 10000 + *month * 100 + 31};
  }
  if (date.size() != 10 || date[7] != '-') return std::nullopt;
  const auto day = number(8, 2);
  if (!day || *day < 1 || *day > 31) return std::nullopt;
  const int d = *year * 10000 + *month * 100 + *day;
  return std::pair{d, d};
}

}  // namespace

std::span<const SearchParamSpec> SearchParams(std::string_view resource) {
  static constexpr SearchParamSpec kPatient[] = {
      {"_id", "token", "the patient's id"},
      {"identifier", "token", "system|value (the MRN); one patient per system|value"},
      {"name", "string", "start of any word of the name"},
      {"family", "string", "start of any word of the name"},
      {"given", "string", "start of any word of the name"},
      {"birthdate", "date", "prefixes eq ne gt lt ge le; YYYY, YYYY-MM or YYYY-MM-DD"},
      {"gender", "token", "male | female | other | unknown"}};
  static constexpr SearchParamSpec kObservation[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"},
      {"code", "token", "LOINC [http://loinc.org|]code, comma-separated; 85354-9 finds BP panels"},
      {"category", "token", "vital-signs | laboratory | exam | therapy"},
      {"date", "date", "effective time; prefixes eq ne gt lt ge le"},
      {"_count", "number", "page size 1–1000 (default 100); follow the next link"},
      {"_sort", "special", "date or -date"},
      {"_summary", "token", "count"},
      {"_include", "special", "Observation:patient"},
      {"_cursor", "special", "this server's page position (from a next link)", false}};
  static constexpr SearchParamSpec kByPatient[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"}};
  static constexpr SearchParamSpec kEncounter[] = {
      {"patient", "reference", "Patient/{id} or {id}; without it, every patient the caller sees"},
      {"subject", "reference", "as patient"},
      {"status", "token", "planned | arrived | triaged | in-progress | onleave | finished | ..."},
      {"location", "reference", "Location/{id}: stays that were (or are) in that place"}};
  static constexpr SearchParamSpec kLocation[] = {
      {"_id", "token", "the location's id"},
      {"identifier", "token", "system|value"},
      {"name", "string", "start of any word of the name or an alias"},
      {"partof", "reference", "Location/{id}: the places inside it (one level)"},
      {"status", "token", "active | suspended | inactive"},
      {"operational-status", "token",
       "HL7 table 0116: O occupied (from encounters), U unoccupied, C, H, I, K"},
      {"physical-type", "token", "location-physical-type: wa ward, ro room, bd bed, ..."}};
  static constexpr SearchParamSpec kAuditEvent[] = {
      {"_count", "number", "the newest records, 1–10000 (default 100)"}};
  if (resource == "Patient") return kPatient;
  if (resource == "Observation") return kObservation;
  if (resource == "AuditEvent") return kAuditEvent;
  if (resource == "Encounter") return kEncounter;
  if (resource == "Location") return kLocation;
  if (resource == "MedicationAdministration" || resource == "MedicationRequest" ||
      resource == "RiskAssessment" || resource == "DetectedIssue") {
    return kByPatient;
  }
  return {};
}

Result<std::vector<SearchTerm>> SearchTerms(const RouteRequest& rq, std::string_view resource) {
  const std::span<const SearchParamSpec> supported = SearchParams(resource);
  const bool lenient = Lenient(rq.req);
  std::vector<SearchTerm> out;
  for (const auto& [name, value] : rq.target.all_query) {
    // Format parameters are answered before the handler (406 for what is not JSON).
    if (name == "_format" || name == "_pretty") continue;
    if (std::none_of(supported.begin(), supported.end(),
                     [&](const SearchParamSpec& p) { return p.name == name; })) {
      if (lenient) continue;
      std::string list;
      for (const auto& p : supported) {
        if (p.in_capabilities) list += (list.empty() ? "" : ", ") + std::string(p.name);
      }
      return InvalidArgument(std::string(resource) + "?" + name.substr(0, 40),
                             "not a search parameter of " + std::string(resource) + " here (" +
                                 list + "); send Prefer: handling=lenient to have it ignored");
    }
    out.push_back({name, SplitCommas(value)});
  }
  return out;
}

bool StringMatches(std::string_view text, std::string_view query) {
  if (query.empty()) return true;
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  for (std::size_t start = 0; start < text.size(); ++start) {
    if (start > 0 && std::isalnum(static_cast<unsigned char>(text[start - 1]))) continue;
    if (text.size() - start < query.size()) break;
    bool match = true;
    for (std::size_t k = 0; k < query.size() && match; ++k) {
      match = lower(text[start + k]) == lower(query[k]);
    }
    if (match) return true;
  }
  return false;
}

Result<bool> DateMatches(std::string_view date, std::string_view query) {
  std::string_view prefix = "eq";
  if (query.size() > 2 && std::isalpha(static_cast<unsigned char>(query[0]))) {
    prefix = query.substr(0, 2);
    query.remove_prefix(2);
  }
  const auto q = DayRange(query);
  if (!q)
    return InvalidArgument(
        "date", "'" + std::string(query.substr(0, 20)) + "' is not YYYY, YYYY-MM or YYYY-MM-DD");
  const auto v = DayRange(date);
  if (!v) return false;  // no date recorded: no match
  if (prefix == "eq") return v->first >= q->first && v->second <= q->second;
  if (prefix == "ne") return v->second < q->first || v->first > q->second;
  if (prefix == "gt") return v->second > q->second;
  if (prefix == "lt") return v->first < q->first;
  if (prefix == "ge") return v->second >= q->first;
  if (prefix == "le") return v->first <= q->second;
  return InvalidArgument("date", "prefix '" + std::string(prefix) + "' (eq, ne, gt, lt, ge, le)");
}

bool TokenMatches(std::string_view system, std::string_view value, std::string_view query) {
  const std::size_t bar = query.find('|');
  if (bar == std::string_view::npos) return value == query;
  const std::string_view want_system = query.substr(0, bar);
  const std::string_view want_value = query.substr(bar + 1);
  if (want_system != system) return false;
  return want_value.empty() || want_value == value;
}

}  // namespace medtwin::server
