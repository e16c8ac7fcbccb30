#include "medtwin/server/fhir_search.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iterator>
#include <optional>

#include "medtwin/io/fhir.h"
#include "medtwin/security/token.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {

using nlohmann::json;
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

}  // namespace

std::span<const SearchParamSpec> SearchParams(std::string_view resource) {
  static constexpr SearchParamSpec kPatient[] = {
      {"_id", "token", "the patient's id"},
      {"identifier", "token", "system|value (the MRN); one patient per system|value"},
      {"name", "string", "start of any word of the name"},
      {"family", "string", "start of any word of the name"},
      {"given", "string", "start of any word of the name"},
      {"birthdate", "date", "prefixes eq ne gt lt ge le; YYYY, YYYY-MM or YYYY-MM-DD"},
      {"gender", "token", "male | female | other | unknown"},
      {"_lastUpdated", "date", "when the record last changed (meta.lastUpdated); prefixes"},
      {"_count", "number", "page size 1–1000 (default 100), by id; next and previous links"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
  static constexpr SearchParamSpec kObservation[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"},
      {"code", "token", "LOINC [http://loinc.org|]code, comma-separated; 85354-9 finds BP panels"},
      {"category", "token", "vital-signs | laboratory | exam | therapy"},
      {"date", "date", "effective time; prefixes eq ne gt lt ge le"},
      {"_lastUpdated", "date",
       "when the reading was stored (meta.lastUpdated); prefixes; readings stored before "
       "medtwin kept the time never match"},
      {"_count", "number", "page size 1–1000 (default 100); follow the next and previous links"},
      {"_sort", "special", "date or -date"},
      {"_summary", "token", "count"},
      {"_include", "special", "Observation:patient"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
  // (The twin's outputs and a patient's doses are searched in memory: SearchList.)
  static constexpr SearchParamSpec kMedicationAdministration[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"},
      {"effective-time", "date", "when given (a period's start); prefixes eq ne gt lt ge le"},
      {"status", "token", "completed (doses not given are not recorded)"},
      {"code", "token", "the medication: [system|]code (RxNorm for the drug twins' drugs)"},
      {"_id", "token", "the resource's id"},
      {"_count", "number", "page size 1–1000 (default 100); next and previous links"},
      {"_summary", "token", "count"},
      {"_sort", "special", "effective-time or -effective-time (default: effective-time)"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
  static constexpr SearchParamSpec kMedicationRequest[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"},
      {"authoredon", "date", "when the advice was accepted as an order; prefixes"},
      {"status", "token", "draft"},
      {"intent", "token", "proposal (the twin's advice) | order (accepted advice)"},
      {"code", "token", "the medication: [system|]code"},
      {"_id", "token", "the resource's id"},
      {"_count", "number", "page size 1–1000 (default 100); next and previous links"},
      {"_summary", "token", "count"},
      {"_sort", "special",
       "authoredon or -authoredon (default: authoredon; advice not yet ordered first)"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
  static constexpr SearchParamSpec kRiskAssessment[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"},
      {"status", "token", "final | preliminary (NEWS2 without every parameter)"},
      {"_id", "token", "the resource's id"},
      {"_count", "number", "page size 1–1000 (default 100); next and previous links"},
      {"_summary", "token", "count"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
  static constexpr SearchParamSpec kDetectedIssue[] = {
      {"patient", "reference", "required: Patient/{id} or {id}"},
      {"subject", "reference", "as patient"},
      {"identified", "date", "when the alert was raised; prefixes eq ne gt lt ge le"},
      {"status", "token", "preliminary (open alert) | final (acknowledged)"},
      {"_id", "token", "the resource's id"},
      {"_count", "number", "page size 1–1000 (default 100); next and previous links"},
      {"_summary", "token", "count"},
      {"_sort", "special", "identified or -identified (default: identified)"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
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
      {"physical-type", "token", "location-physical-type: wa ward, ro room, bd bed, ..."},
      {"_lastUpdated", "date", "when the place last changed (meta.lastUpdated); prefixes"}};
  static constexpr SearchParamSpec kAuditEvent[] = {
      {"date", "date", "when recorded; prefixes eq ne gt lt ge le (among the newest 10,000)"},
      {"patient", "reference", "Patient/{id} or {id}: records naming that patient"},
      {"action", "token", "C | R | U | D | E"},
      {"outcome", "token", "0 success | 4 minor failure | 8 serious failure"},
      {"_id", "token", "the record's id (audit-{sequence number})"},
      {"_count", "number", "page size 1–10000 (default 100), newest first"},
      {"_sort", "special", "date or -date (default: -date, newest first)"},
      {"_summary", "token", "count"},
      {"_cursor", "special", "this server's page position (from a next or previous link)", false}};
  if (resource == "Patient") return kPatient;
  if (resource == "Observation") return kObservation;
  if (resource == "AuditEvent") return kAuditEvent;
  if (resource == "Encounter") return kEncounter;
  if (resource == "Location") return kLocation;
  if (resource == "MedicationAdministration") return kMedicationAdministration;
  if (resource == "MedicationRequest") return kMedicationRequest;
  if (resource == "RiskAssessment") return kRiskAssessment;
  if (resource == "DetectedIssue") return kDetectedIssue;
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

Result<DateRange> FhirDateRange(std::string_view text) {
  const std::string t(text);
  auto start = io::ParseFhirDateTime(t);
  if (!start.ok()) {
    return InvalidArgument("date", "'" + t.substr(0, 40) +
                                       "' is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a "
                                       "dateTime)");
  }
  // The period's last microsecond: the start of the next year, month or day, less one.
  std::int64_t end_us = start->us_since_epoch;
  if (t.size() > 10) {
    // A dateTime covers its precision: the second, or the fraction of it that is given.
    std::int64_t width_us = 1'000'000;
    if (const std::size_t dot = t.find('.', 19); dot == 19) {
      std::size_t digits = 0;
      while (dot + 1 + digits < t.size() &&
             std::isdigit(static_cast<unsigned char>(t[dot + 1 + digits])) != 0) {
        ++digits;
      }
      width_us = 1;
      for (std::size_t k = digits; k < 6; ++k) width_us *= 10;
    }
    end_us += width_us - 1;
  } else if (t.size() == 10) {
    end_us += 86'400'000'000LL - 1;
  } else if (t.size() == 4 || t.size() == 7) {
    int year = 0, month = 1;
    std::from_chars(t.data(), t.data() + 4, year);
    if (t.size() == 7) std::from_chars(t.data() + 5, t.data() + 7, month);
    char next[32];
    if (t.size() == 4) {
      std::snprintf(next, sizeof next, "%04d", year + 1);
    } else {
      std::snprintf(next, sizeof next, "%04d-%02d", month == 12 ? year + 1 : year,
                    month == 12 ? 1 : month + 1);
    }
    auto following = io::ParseFhirDateTime(next);
    if (!following.ok())
      return InvalidArgument("date", "'" + t.substr(0, 40) + "' is out of range");
    end_us = following->us_since_epoch - 1;
  }
  return DateRange{*start, Instant{end_us}};
}

Result<DateQuery> ParseDateQuery(std::string_view value, std::string_view parameter) {
  DateQuery q{"eq", {}};
  if (value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0]))) {
    q.prefix = std::string(value.substr(0, 2));
    value.remove_prefix(2);
  }
  static constexpr std::string_view kPrefixes[] = {"eq", "ne", "gt", "lt", "ge", "le"};
  if (std::find(std::begin(kPrefixes), std::end(kPrefixes), q.prefix) == std::end(kPrefixes)) {
    return InvalidArgument(std::string(parameter),
                           "prefix '" + q.prefix + "' (eq, ne, gt, lt, ge, le)");
  }
  auto range = FhirDateRange(value);
  if (!range.ok()) return InvalidArgument(std::string(parameter), range.error().message);
  q.range = *range;
  return q;
}

bool DateQueryMatches(const DateQuery& q, const DateRange& v) {
  const std::int64_t lo = q.range.lo.us_since_epoch, hi = q.range.hi.us_since_epoch;
  const std::int64_t vlo = v.lo.us_since_epoch, vhi = v.hi.us_since_epoch;
  if (q.prefix == "eq") return vlo >= lo && vhi <= hi;
  if (q.prefix == "ne") return !(vlo >= lo && vhi <= hi);  // R4: not eq
  if (q.prefix == "gt") return vhi > hi;
  if (q.prefix == "lt") return vlo < lo;
  if (q.prefix == "ge") return vhi >= lo;
  return vlo <= hi;  // le
}

Status CheckDateTerms(std::string_view resource, const std::vector<SearchTerm>& terms) {
  const std::span<const SearchParamSpec> specs = SearchParams(resource);
  for (const auto& t : terms) {
    const bool date = std::any_of(specs.begin(), specs.end(), [&](const SearchParamSpec& p) {
      return p.name == t.name && std::string_view(p.type) == "date";
    });
    if (!date) continue;
    for (const auto& v : t.values) MEDTWIN_RETURN_IF_ERROR(ParseDateQuery(v, t.name));
  }
  return Ok{};
}

Result<bool> DateMatches(std::string_view date, std::string_view query,
                         std::string_view parameter) {
  MEDTWIN_TRY(const DateQuery q, ParseDateQuery(query, parameter));
  auto v = FhirDateRange(date);
  return v.ok() && DateQueryMatches(q, *v);
}

std::string PageLink(const RouteRequest& rq, std::string_view resource,
                     const std::string& position) {
  std::string out = FhirBase(rq) + "/" + std::string(resource);
  char sep = '?';
  for (const auto& [name, value] : rq.target.all_query) {
    if (name == "_cursor") continue;
    out += sep + name + "=";
    sep = '&';
    for (const char ch : value) {  // percent-encoded but for what a query may carry
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) ||
          std::string_view("-._~:/|,").find(static_cast<char>(c)) != std::string_view::npos) {
        out += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        out += hex;
      }
    }
  }
  return out + sep + "_cursor=" + security::Base64UrlEncode(position);
}

Result<std::string> PagePosition(std::string_view cursor) {
  auto decoded = security::Base64UrlDecode(std::string(cursor));
  if (!decoded.ok() || decoded->empty()) {
    return InvalidArgument("_cursor", "not a position this server gave");
  }
  return *decoded;
}

Result<std::size_t> PageSize(std::string_view count, std::size_t max) {
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || p != count.data() + count.size() || n < 1 || n > max) {
    return InvalidArgument("_count", "an integer 1–" + std::to_string(max));
  }
  return n;
}

Result<Paging> ReadPaging(const std::vector<SearchTerm>& terms, std::size_t max_count,
                          std::string_view sort_param) {
  Paging out;
  for (const auto& t : terms) {
    const std::string& first = t.values.front();
    if (t.name == "_count") {
      MEDTWIN_TRY(out.count, PageSize(first, max_count));
    } else if (t.name == "_cursor") {
      MEDTWIN_TRY(std::string position, PagePosition(first));
      // A position this server gave: after a key (next) or, starting with '<', before one.
      if (position.front() == '<') {
        out.before = position.substr(1);
      } else {
        out.after = std::move(position);
      }
    } else if (t.name == "_sort") {
      const bool known =
          !sort_param.empty() &&
          (first == sort_param || (first.size() == sort_param.size() + 1 && first[0] == '-' &&
                                   first.substr(1) == sort_param));
      if (!known) {
        return Error{ErrorCode::kUnimplemented, "_sort",
                     sort_param.empty()
                         ? std::string("no sort here")
                         : std::string(sort_param) + " or -" + std::string(sort_param)};
      }
      out.descending = first.front() == '-';
    } else if (t.name == "_summary") {
      if (first != "count") return Error{ErrorCode::kUnimplemented, "_summary", "count"};
      out.summary_count = true;
    }
  }
  return out;
}

PageBounds PageOf(const std::vector<std::string>& keys, const Paging& paging) {
  const auto beyond = [&](const std::string& key, const std::string& mark) {
    return paging.descending ? key < mark : key > mark;
  };
  PageBounds page{0, keys.size()};
  if (!paging.after.empty()) {
    while (page.start < keys.size() && !beyond(keys[page.start], paging.after)) ++page.start;
  }
  if (!paging.before.empty()) {
    page.end = 0;
    while (page.end < keys.size() && beyond(paging.before, keys[page.end])) ++page.end;
    page.start = page.end > paging.count ? page.end - paging.count : 0;
  }
  page.end = std::min({page.end, page.start + paging.count, keys.size()});
  return page;
}

void AddPageLinks(json& bundle, const RouteRequest& rq, std::string_view resource,
                  const std::vector<std::string>& keys, PageBounds page) {
  if (page.end <= page.start) return;
  if (page.end < keys.size()) {
    bundle["link"].push_back(
        {{"relation", "next"}, {"url", PageLink(rq, resource, keys[page.end - 1])}});
  }
  if (page.start > 0) {
    bundle["link"].push_back(
        {{"relation", "previous"}, {"url", PageLink(rq, resource, "<" + keys[page.start])}});
  }
}

Response PagingRefused(const Error& e) {
  return Outcome(400, e.code == ErrorCode::kUnimplemented ? "not-supported" : "value", e.field,
                 e.message);
}

TokenReader TokenMember(std::string member) {
  return [member = std::move(member)](const json& r) {
    std::vector<std::pair<std::string, std::string>> out;
    if (r.contains(member) && r[member].is_string()) out.emplace_back("", r[member]);
    return out;
  };
}

TokenReader CodingsOf(std::string member) {
  return [member = std::move(member)](const json& r) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!r.contains(member) || !r[member].is_object()) return out;
    const json& concept_ = r[member];
    if (concept_.contains("coding") && concept_["coding"].is_array()) {
      for (const auto& c : concept_["coding"]) {
        if (c.is_object()) out.emplace_back(c.value("system", ""), c.value("code", ""));
      }
    }
    return out;
  };
}

// A date's place in time as text that sorts as the time does (whatever the fraction written);
// "" (first) for no date.
std::string TimeKey(const std::string& date) {
  auto range = FhirDateRange(date);
  if (!range.ok()) return "";
  char key[20];
  std::snprintf(key, sizeof key, "%016llx",
                static_cast<unsigned long long>(range->lo.us_since_epoch) ^ (1ULL << 63));
  return key;
}

Response SearchList(const RouteRequest& rq, std::string_view resource, json resources,
                    std::span<const ListParam> params, std::string_view sort, bool newest_first,
                    std::size_t max_count) {
  auto terms = SearchTerms(rq, resource);
  if (!terms.ok()) return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  if (auto dates = CheckDateTerms(resource, *terms); !dates.ok()) {
    return Outcome(400, "invalid", dates.error().field, dates.error().message);
  }
  auto paging = ReadPaging(*terms, max_count, sort);
  if (!paging.ok()) return PagingRefused(paging.error());
  if (newest_first && !std::any_of(terms->begin(), terms->end(),
                                   [](const SearchTerm& t) { return t.name == "_sort"; })) {
    paging->descending = true;
  }
  const ListParam* sort_by = nullptr;
  for (const auto& p : params) {
    if (p.name == sort) sort_by = &p;
  }
  // Each term ANDed, its values ORed.
  auto matches = [&](const json& r) {
    for (const auto& t : *terms) {
      bool any = false;
      if (t.name == "_id") {
        for (const auto& v : t.values) any = any || r.value("id", "") == v;
        if (!any) return false;
        continue;
      }
      const auto p = std::find_if(params.begin(), params.end(),
                                  [&](const ListParam& lp) { return lp.name == t.name; });
      if (p == params.end()) continue;  // paging, the patient (already chosen), or lenient
      for (const auto& v : t.values) {
        if (p->date) {
          auto m = DateMatches(p->date(r), v, p->name);
          any = any || (m.ok() && *m);
        } else if (p->tokens) {
          for (const auto& [system, code] : p->tokens(r))
            any = any || TokenMatches(system, code, v);
        }
      }
      if (!any) return false;
    }
    return true;
  };
  std::vector<std::pair<std::string, json>> matched;  // (key, resource)
  for (auto& r : resources) {
    if (!matches(r)) continue;
    // (The separator sorts before any character of a date: no date comes first.)
    std::string key = (sort_by != nullptr ? TimeKey(sort_by->date(r)) : std::string()) + "\x1f" +
                      r.value("id", "");
    matched.emplace_back(std::move(key), std::move(r));
  }
  std::stable_sort(matched.begin(), matched.end(), [&](const auto& a, const auto& b) {
    return paging->descending ? a.first > b.first : a.first < b.first;
  });
  std::vector<std::string> keys;
  keys.reserve(matched.size());
  for (const auto& [key, r] : matched) keys.push_back(key);
  const PageBounds page = PageOf(keys, *paging);
  json list = json::array();
  if (!paging->summary_count) {
    for (std::size_t i = page.start; i < page.end; ++i)
      list.push_back(std::move(matched[i].second));
  }
  json bundle = Searchset(list, &rq);
  bundle["total"] = matched.size();
  if (paging->summary_count) {
    bundle.erase("entry");
  } else {
    AddPageLinks(bundle, rq, resource, keys, page);
  }
  return Fhir(200, bundle);
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
