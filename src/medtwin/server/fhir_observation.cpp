// /fhir/r4/Observation: create (one Observation, or a blood-pressure panel's components) and
// search by patient, code and date.
#include "medtwin/server/handlers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>

#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/security/token.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {
namespace {

using nlohmann::json;
using security::Interaction;

// date=[prefix]value (R4 search.html, "date"): the value stands for the whole period its
// precision gives (a year, a month, a day, or the instant of a dateTime), and the prefix
// narrows the store's inclusive [from, to] window: eq within it, ge/gt from its start/after its
// end, le/lt up to its end/before its start. Repeated dates AND (the window only narrows).
Status ApplyDate(const std::string& value, store::ObservationQuery& q) {
  MEDTWIN_TRY(const DateQuery date, ParseDateQuery(value, "date"));
  const Instant lo = date.range.lo, hi = date.range.hi;
  auto narrow_from = [&](Instant t) { q.from = q.from && *q.from > t ? *q.from : t; };
  auto narrow_to = [&](Instant t) { q.to = q.to && *q.to < t ? *q.to : t; };
  if (date.prefix == "eq") {
    narrow_from(lo);
    narrow_to(hi);
  } else if (date.prefix == "ge") {
    narrow_from(lo);
  } else if (date.prefix == "gt") {
    narrow_from(Instant{hi.us_since_epoch + 1});
  } else if (date.prefix == "le") {
    narrow_to(hi);
  } else if (date.prefix == "lt") {
    narrow_to(Instant{lo.us_since_epoch - 1});
  } else {
    // (ne is two windows: not one the store's query can hold.)
    return InvalidArgument("date", "prefix '" + date.prefix + "' (eq, ge, gt, le, lt)");
  }
  return Ok{};
}

}  // namespace

Response FhirCreateObservation(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const io::ObservationLimits limits = LimitsNow();
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "Observation", b.error().message);
  auto obs = io::FromFhirObservation(*b, limits);
  if (!obs.ok()) return Outcome(400, "invalid", obs.error().field, obs.error().message);
  if (auto d = caller.Check(obs->front().patient, "Observation", Interaction::kCreate);
      !d.allowed) {
    return Outcome(403, "forbidden", "Observation.subject", d.reason);
  }
  if (!service.Patient(obs->front().patient)) {
    return Outcome(404, "not-found", "Observation.subject", "unknown patient");
  }
  auto r = service.IngestObservations(*obs);
  if (!r.ok()) return Outcome(503, "transient", "store", r.error().message);
  if (!r->rejected.empty()) {
    return Outcome(422, "invalid", "Observation", r->rejected[0]["reason"].get<std::string>());
  }
  // As stored: a new reading with the time it was stored (a resent one as it was sent).
  for (std::size_t k = 0; k < obs->size(); ++k) {
    if (k < r->accepted.size() && !r->accepted[k].value("duplicate", true)) {
      (*obs)[k].stored_at = r->stored_at;
    }
  }
  auto [id, resource] = FhirObservationOf(*obs);
  Response created = Fhir(201, resource);
  created.headers.emplace_back("Location", FhirBase(rq) + "/Observation/" + id);
  return created;
}

Response FhirReadObservation(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto key = ParseObservationId(id);
  auto not_found = [&] {
    return Outcome(404, "not-found", "Observation.id", "no observation '" + id + "'");
  };
  if (!key) return not_found();
  // The patients the hash could be (a 32-bit hash: the reading itself must then be found). A
  // reading the caller may not see is refused as any patient's data is (403).
  for (const std::string& patient : rq.service.PatientIds()) {
    if (IdHash(patient) != key->patient_hash) continue;
    std::vector<record::Observation> readings;
    const std::vector<std::string> codes =
        key->panel ? std::vector<std::string>{std::string(record::loinc::kSystolicBp),
                                              std::string(record::loinc::kDiastolicBp)}
                   : std::vector<std::string>{key->code};
    for (const auto& code : codes) {
      store::ObservationQuery q;
      q.patient = patient;
      q.code = code;
      q.from = q.to = key->time;
      q.limit = 1000;
      auto page = rq.service.History(q);
      if (!page.ok()) return Outcome(503, "transient", "store", page.error().message);
      for (auto& o : page->items) {
        if (IdHash(o.source) == key->source_hash) readings.push_back(std::move(o));
      }
    }
    if (readings.empty() || MeasurementId(readings) != id) continue;
    if (auto d = rq.caller.Check(patient, "Observation", Interaction::kRead); !d.allowed) {
      return Outcome(403, "forbidden", "Observation.subject", d.reason);
    }
    return Fhir(200, FhirObservationOf(readings).second);
  }
  return not_found();
}

namespace {

constexpr const char* kCategorySystem =
    "http://terminology.hl7.org/CodeSystem/observation-category";

// A reading's place in the order pages follow: time, code, source.
std::string SortKey(const record::Observation& o) {
  char time[24];
  std::snprintf(time, sizeof time, "%020lld", static_cast<long long>(o.time.us_since_epoch));
  return std::string(time) + '\n' + o.code + '\n' + o.source;
}

// `token` (code=, category=) against [system|]code with the one system it may name.
bool CodeMatches(std::string_view token, std::string_view system, std::string_view code) {
  const std::size_t bar = token.find('|');
  if (bar == std::string_view::npos) return token == code;
  const std::string_view s = token.substr(0, bar);
  return (s.empty() || s == system) && token.substr(bar + 1) == code;
}

}  // namespace

// R4 §3.1.1: by patient (required), code, category, date (prefixes; repeated: AND), sorted by
// date either way, in pages of _count (default 100, at most 1,000) with a next link that stays
// right while readings arrive (the position is a key, not an offset), _summary=count, and
// _include=Observation:patient.
Response FhirSearchObservation(const RouteRequest& rq) {
  TwinService& service = rq.service;
  auto terms = SearchTerms(rq, "Observation");
  if (!terms.ok()) return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  store::ObservationQuery q;
  q.patient = PatientInQuery(rq.query());
  if (q.patient.empty()) return Outcome(400, "required", "patient", "search needs patient");
  std::vector<std::string> codes, categories;
  std::vector<std::vector<DateQuery>> last_updated;  // each term ANDed, its values ORed
  if (auto dates = CheckDateTerms("Observation", *terms); !dates.ok()) {
    return Outcome(400, "value", dates.error().field, dates.error().message);
  }
  for (const auto& t : *terms) {
    if (t.name != "_lastUpdated") continue;
    std::vector<DateQuery> any;
    for (const auto& v : t.values) {
      auto d = ParseDateQuery(v, "_lastUpdated");
      if (!d.ok()) return Outcome(400, "value", "_lastUpdated", d.error().message);
      any.push_back(*d);
    }
    last_updated.push_back(std::move(any));
  }
  auto paging = ReadPaging(*terms, 1000, "date");
  if (!paging.ok()) return PagingRefused(paging.error());
  const bool descending = paging->descending;
  bool include_patient = false;
  for (const auto& t : *terms) {
    const std::string& first = t.values.front();
    if (t.name == "code") codes.insert(codes.end(), t.values.begin(), t.values.end());
    if (t.name == "category") {
      categories.insert(categories.end(), t.values.begin(), t.values.end());
    }
    if (t.name == "date") {
      if (t.values.size() > 1) return Outcome(400, "value", "date", "one date per parameter");
      if (Status s = ApplyDate(first, q); !s.ok()) {
        return Outcome(400, "value", "date", s.error().message);
      }
    }
    if (t.name == "_include") {
      if (first != "Observation:patient" && first != "Observation:subject") {
        return Outcome(400, "not-supported", "_include", "Observation:patient");
      }
      include_patient = true;
    }
  }
  // One code that is not the panel's is filtered by the store; anything else here.
  if (codes.size() == 1) {
    const std::string& c = codes.front();
    const std::size_t bar = c.find('|');
    const std::string system = bar == std::string::npos ? "" : c.substr(0, bar);
    const std::string code = bar == std::string::npos ? c : c.substr(bar + 1);
    if ((system.empty() || system == "http://loinc.org") &&
        code != record::loinc::kBloodPressurePanel) {
      q.code = code;
    }
  }
  // Every match, read from the store in pages (a year of CGM is 105,000 readings): a search
  // that would hold more than kMaxSearchReadings is refused, naming what narrows it, rather
  // than answered from part of the record.
  constexpr std::size_t kMaxSearchReadings = 2'000'000;
  q.limit = 50'000;
  std::vector<record::Observation> matched;
  std::size_t read = 0;
  const auto in_panel = [](const std::string& code) {
    return code == record::loinc::kSystolicBp || code == record::loinc::kDiastolicBp;
  };
  while (true) {
    auto page = service.History(q);
    if (!page.ok()) return Outcome(404, "not-found", "patient", page.error().message);
    read += page->items.size();
    if (read > kMaxSearchReadings) {
      return Outcome(400, "too-costly", "Observation",
                     "more than 2,000,000 of the patient's readings: narrow the search with date "
                     "or a code");
    }
    for (auto& o : page->items) {
      bool code_ok = codes.empty(), category_ok = categories.empty();
      for (const auto& c : codes) {
        code_ok = code_ok || CodeMatches(c, "http://loinc.org", o.code) ||
                  (in_panel(o.code) &&
                   CodeMatches(c, "http://loinc.org", record::loinc::kBloodPressurePanel));
      }
      for (const auto& c : categories) {
        category_ok =
            category_ok || CodeMatches(c, kCategorySystem, record::ObservationCategory(o.code));
      }
      bool stored_ok = true;
      for (const auto& any : last_updated) {
        const DateRange stored{o.stored_at, o.stored_at};
        stored_ok = stored_ok && o.stored_at.us_since_epoch > 0 &&
                    std::any_of(any.begin(), any.end(), [&](const DateQuery& when) {
                      return DateQueryMatches(when, stored);
                    });
      }
      if (code_ok && category_ok && stored_ok) matched.push_back(std::move(o));
    }
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  // Each reading's key made once (the order pages follow, and what cursors name), then the
  // readings put in its order.
  std::vector<std::string> reading_keys;
  {
    std::vector<std::pair<std::string, std::size_t>> order;
    order.reserve(matched.size());
    for (std::size_t i = 0; i < matched.size(); ++i) order.emplace_back(SortKey(matched[i]), i);
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      return descending ? a.first > b.first : a.first < b.first;
    });
    std::vector<record::Observation> sorted;
    sorted.reserve(matched.size());
    reading_keys.reserve(matched.size());
    for (auto& [key, i] : order) {
      sorted.push_back(std::move(matched[i]));
      reading_keys.push_back(std::move(key));
    }
    matched = std::move(sorted);
  }
  // One entry per measurement: a systolic and a diastolic reading of the same time and device
  // are one blood-pressure panel — unless the search named codes and not the panel's (then it
  // asked for the readings themselves).
  const bool panels =
      codes.empty() || std::any_of(codes.begin(), codes.end(), [](const std::string& c) {
        return CodeMatches(c, "http://loinc.org", record::loinc::kBloodPressurePanel);
      });
  const auto measurements = Measurements(matched, panels);
  const std::size_t total = measurements.size();
  // The page: after the `after` key, or the `count` measurements just before the `before` key.
  std::vector<std::string> keys;  // a measurement's is its first reading's
  keys.reserve(measurements.size());
  for (const auto& m : measurements) {
    keys.push_back(std::move(reading_keys[static_cast<std::size_t>(m.front() - matched.data())]));
  }
  const PageBounds page = PageOf(keys, *paging);
  json list = json::array();
  const std::size_t shown = paging->summary_count ? 0 : page.end - page.start;
  for (std::size_t i = page.start; i < page.start + shown; ++i) {
    std::vector<record::Observation> readings;
    for (const auto* o : measurements[i]) readings.push_back(*o);
    list.push_back(FhirObservationOf(readings).second);
  }
  json bundle = Searchset(list, &rq);
  bundle["total"] = total;
  if (paging->summary_count) {
    bundle.erase("entry");
  } else {
    AddPageLinks(bundle, rq, "Observation", keys, page);
  }
  if (include_patient && shown > 0) {
    if (auto p = service.Patient(q.patient);
        p && rq.caller.May(p->id, "Patient", Interaction::kRead)) {
      bundle["entry"].push_back({{"fullUrl", FhirBase(rq) + "/Patient/" + p->id},
                                 {"resource", io::ToFhirPatient(io::PatientToJson(*p))},
                                 {"search", {{"mode", "include"}}}});
    }
  }
  return Fhir(200, bundle);
}

}  // namespace medtwin::server
