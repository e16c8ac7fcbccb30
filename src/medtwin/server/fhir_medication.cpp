// /fhir/r4/MedicationAdministration: create and search the doses the drug twins read.
#include "medtwin/server/handlers.h"

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/io/event.h"
#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

// Stores one dose through the service's event path; "" or the reason it was refused.
std::string IngestDose(TwinService& service, const record::Event& dose) {
  auto r = service.IngestEvents({io::EventToJson(dose)}, "");
  if (!r.ok()) return r.error().message;
  if (!r->rejected.empty()) return r->rejected[0]["reason"].get<std::string>();
  return "";
}

Response FhirCreateMedicationAdministration(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const io::ObservationLimits limits = LimitsNow();
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "MedicationAdministration", b.error().message);
  auto dose = io::FromFhirMedicationAdministration(*b, limits);
  if (!dose.ok()) return Outcome(400, "invalid", dose.error().field, dose.error().message);
  if (!dose->has_value()) {
    return Outcome(422, "business-rule", "MedicationAdministration.status",
                   "not given: nothing to record");
  }
  if (auto d = caller.Check((*dose)->patient, "MedicationAdministration", Interaction::kCreate);
      !d.allowed) {
    return Outcome(403, "forbidden", "MedicationAdministration.subject", d.reason);
  }
  if (!service.Patient((*dose)->patient)) {
    return Outcome(404, "not-found", "MedicationAdministration.subject", "unknown patient");
  }
  if (const std::string why = IngestDose(service, **dose); !why.empty()) {
    return Outcome(422, "invalid", "MedicationAdministration", why);
  }
  return Fhir(201, io::ToFhirMedicationAdministration(**dose, DoseId(**dose)));
}

Response FhirSearchMedicationAdministration(const RouteRequest& rq) {
  TwinService& service = rq.service;
  if (auto terms = SearchTerms(rq, "MedicationAdministration"); !terms.ok()) {
    return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  }
  const auto& query = rq.query();
  const std::string id = PatientInQuery(query);
  if (id.empty()) return Outcome(400, "required", "patient", "search needs patient");
  if (!service.Patient(id)) return Outcome(404, "not-found", "patient", "no Patient/" + id);
  auto events = service.store().QueryEvents(id, std::nullopt, std::nullopt, 100'000);
  if (!events.ok()) return Outcome(503, "transient", "store", events.error().message);
  json list = json::array();
  for (const auto& e : *events) {
    if (e.type == "dose") list.push_back(io::ToFhirMedicationAdministration(e, DoseId(e)));
  }
  static const ListParam kParams[] = {{"effective-time",
                                       [](const json& r) {
                                         return r.contains("effectivePeriod")
                                                    ? r["effectivePeriod"].value("start", "")
                                                    : r.value("effectiveDateTime", "");
                                       },
                                       nullptr},
                                      {"status", nullptr, TokenMember("status")},
                                      {"code", nullptr, CodingsOf("medicationCodeableConcept")}};
  return SearchList(rq, "MedicationAdministration", std::move(list), kParams, "effective-time");
}

Response FhirReadMedicationAdministration(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto not_found = [&] {
    return Outcome(404, "not-found", "MedicationAdministration.id",
                   "no MedicationAdministration/" + id.substr(0, 64));
  };
  // DoseId: "{patient}-dose-{time in µs}".
  const std::size_t at = id.rfind("-dose-");
  if (at == std::string::npos || at == 0) return not_found();
  const std::string patient = id.substr(0, at);
  const auto us = ParseInt64(std::string_view(id).substr(at + 6));
  if (!us || !rq.service.Patient(patient)) return not_found();
  const Instant when{*us};
  auto events = rq.service.store().QueryEvents(patient, when, when, 100);
  if (!events.ok()) return Outcome(503, "transient", "store", events.error().message);
  for (const auto& e : *events) {
    if (e.type != "dose" || DoseId(e) != id) continue;
    // Found first, then access (as Observation/{id}): a made-up id is 404 whoever asks.
    if (auto d = rq.caller.Check(patient, "MedicationAdministration", Interaction::kRead);
        !d.allowed) {
      return Outcome(403, "forbidden", "MedicationAdministration.subject", d.reason);
    }
    return Fhir(200, io::ToFhirMedicationAdministration(e, id));
  }
  return not_found();
}

}  // namespace medtwin::server
