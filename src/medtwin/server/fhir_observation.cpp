// /fhir/r4/Observation: create (one Observation, or a blood-pressure panel's components) and
// search by patient, code and date.
#include "medtwin/server/handlers.h"

#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {
namespace {

using nlohmann::json;
using security::Interaction;

// date=geYYYY-MM-DD / le… / eq… / plain.
Status ApplyDate(const std::string& value, store::ObservationQuery& q) {
  std::string prefix = value.size() > 2 ? value.substr(0, 2) : "";
  std::string rest = value;
  if (prefix == "ge" || prefix == "le" || prefix == "gt" || prefix == "lt" || prefix == "eq") {
    rest = value.substr(2);
  } else {
    prefix = "eq";
  }
  auto t = io::ParseFhirDateTime(rest);
  if (!t.ok()) return InvalidArgument("date", "'" + value + "' is not a FHIR date");
  if (prefix == "ge" || prefix == "gt") q.from = *t;
  if (prefix == "le" || prefix == "lt") q.to = *t;
  if (prefix == "eq") {
    q.from = *t;
    // The whole day when only a date was given.
    q.to = Instant{t->us_since_epoch + (rest.size() == 10 ? 86'400'000'000LL - 1 : 0)};
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
  std::vector<json> items;
  for (const auto& o : *obs) items.push_back(io::ObservationToJson(o));
  auto r = service.Ingest(items, "");
  if (!r.ok()) return Outcome(503, "transient", "store", r.error().message);
  if (!r->rejected.empty()) {
    return Outcome(422, "invalid", "Observation", r->rejected[0]["reason"].get<std::string>());
  }
  return Fhir(201, io::ToFhirObservation(obs->front(), ObservationId(obs->front())));
}

Response FhirSearchObservation(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const auto& query = rq.query();
  const auto& all_query = rq.target.all_query;
  store::ObservationQuery q;
  q.patient = PatientInQuery(query);
  if (q.patient.empty()) return Outcome(400, "required", "patient", "search needs patient");
  if (auto c = query.find("code"); c != query.end()) {
    q.code = c->second;
    if (const auto bar = q.code.find('|'); bar != std::string::npos)
      q.code = q.code.substr(bar + 1);
  }
  auto range = all_query.equal_range("date");
  for (auto it = range.first; it != range.second; ++it) {
    if (Status s = ApplyDate(it->second, q); !s.ok()) {
      return Outcome(400, "value", "date", s.error().message);
    }
  }
  q.limit = 10'000;
  auto page = service.History(q);
  if (!page.ok()) return Outcome(404, "not-found", "patient", page.error().message);
  json list = json::array();
  for (const auto& o : page->items) list.push_back(io::ToFhirObservation(o, ObservationId(o)));
  return Fhir(200, Searchset(list));
}

}  // namespace medtwin::server
