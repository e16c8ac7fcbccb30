// /fhir/r4/Location: the hospital's wards, rooms and beds (server/locations.h), with each
// bed's operationalStatus (HL7 table 0116) from who lies in it now: "O" when an encounter in
// progress has a patient there, else what people set (closed, housekeeping, isolated,
// contaminated), else "U". Read by clinicians and administrators; changed by administrators.
#include "medtwin/server/handlers.h"

#include "medtwin/core/time.h"
#include "medtwin/io/fhir_encounter.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;

namespace {

std::string OperationalStatus(const record::Location& l,
                              const std::map<std::string, std::string>& occupants) {
  if (l.physical_type != "bd") return l.bed_status;
  if (occupants.contains(l.id)) return "O";
  if (l.bed_status == "O" || l.bed_status == "U" || l.bed_status.empty()) return "U";
  return l.bed_status;
}

Response LocationAnswer(unsigned status, const record::Location& l, const RouteRequest& rq,
                        bool created) {
  Response r = Fhir(status, io::ToFhirLocation(l, OperationalStatus(l, rq.service.Occupants())));
  AddVersionHeaders(r, l.version, l.last_updated);
  if (created) r.headers.emplace_back("Location", FhirBase(rq) + "/Location/" + l.id);
  return r;
}

Response SaveLocation(const RouteRequest& rq, const std::string& path_id) {
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Outcome(400, "structure", "Location", body.error().message);
  auto l = io::FromFhirLocation(*body);
  if (!l.ok()) return Outcome(400, "invalid", l.error().field, l.error().message);
  auto if_match = IfMatch(rq.req);
  if (!if_match.ok()) return Outcome(400, "value", "If-Match", if_match.error().message);
  if (path_id.empty()) {
    // Create: the server names it (R4 §3.1.0.7: an id in the body is ignored).
    l->id = "loc-" + NewPatientId().substr(2);
  } else {
    if (!io::IsFhirId(path_id)) {
      return Outcome(400, "value", "Location.id", io::kFhirIdRule);
    }
    if (!l->id.empty() && l->id != path_id) {
      return Outcome(400, "invalid", "Location.id",
                     "the body's id '" + l->id.substr(0, 64) + "' is not the one in the URL");
    }
    l->id = path_id;
  }
  // O and U are what the census says, not what people set: a Location read while occupied
  // ("O") and put back keeps the status people set (isolated stays isolated); "U" clears it.
  if (l->bed_status == "O" || l->bed_status == "U") {
    const auto before = rq.service.locations().Get(l->id);
    l->bed_status = l->bed_status == "O" && before ? before->bed_status : "";
  }
  auto saved = rq.service.locations().Put(std::move(*l), *if_match);
  if (!saved.ok()) {
    const Error& e = saved.error();
    if (e.code == ErrorCode::kFailedPrecondition)
      return Outcome(412, "conflict", e.field, e.message);
    if (e.code == ErrorCode::kInvalidArgument) return Outcome(422, "invalid", e.field, e.message);
    return Outcome(503, "transient", "store", e.message);
  }
  return LocationAnswer(saved->created ? 201 : 200, saved->location, rq, saved->created);
}

}  // namespace

Response FhirSearchLocation(const RouteRequest& rq) {
  auto terms = SearchTerms(rq, "Location");
  if (!terms.ok()) return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  if (auto dates = CheckDateTerms("Location", *terms); !dates.ok()) {
    return Outcome(400, "invalid", dates.error().field, dates.error().message);
  }
  const auto occupants = rq.service.Occupants();
  json list = json::array();
  for (const auto& l : rq.service.locations().All()) {
    const std::string operational = OperationalStatus(l, occupants);
    bool match = true;
    for (const auto& t : *terms) {
      bool any = false;
      for (const auto& v : t.values) {
        if (t.name == "_id") any = any || l.id == v;
        if (t.name == "name") {
          any = any || StringMatches(l.name, v) ||
                std::any_of(l.alias.begin(), l.alias.end(),
                            [&](const std::string& a) { return StringMatches(a, v); });
        }
        if (t.name == "partof")
          any = any || l.part_of == (v.starts_with("Location/") ? v.substr(9) : v);
        if (t.name == "status") any = any || l.status == v;
        if (t.name == "operational-status") {
          any =
              any || TokenMatches("http://terminology.hl7.org/CodeSystem/v2-0116", operational, v);
        }
        if (t.name == "physical-type") {
          any = any || TokenMatches("http://terminology.hl7.org/CodeSystem/location-physical-type",
                                    l.physical_type, v);
        }
        if (t.name == "_lastUpdated") {
          auto m = DateMatches(l.last_updated, v, t.name);
          any = any || (m.ok() && *m);
        }
        if (t.name == "identifier") {
          any = any || std::any_of(l.identifiers.begin(), l.identifiers.end(),
                                   [&](const record::Identifier& i) {
                                     return TokenMatches(i.system, i.value, v);
                                   });
        }
      }
      match = match && any;
    }
    if (match) list.push_back(io::ToFhirLocation(l, operational));
  }
  return Fhir(200, Searchset(list, &rq));
}

Response FhirReadLocation(const RouteRequest& rq) {
  auto l = rq.service.locations().Get(rq.param("id"));
  if (!l)
    return Outcome(404, "not-found", "Location.id", "no Location/" + rq.param("id").substr(0, 64));
  return LocationAnswer(200, *l, rq, false);
}

Response FhirCreateLocation(const RouteRequest& rq) { return SaveLocation(rq, ""); }

Response FhirUpdateLocation(const RouteRequest& rq) { return SaveLocation(rq, rq.param("id")); }

}  // namespace medtwin::server
