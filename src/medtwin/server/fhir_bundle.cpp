// POST /fhir/r4 with a Bundle: transaction (every entry validated and authorized before any is
// applied; all or nothing) or batch (each entry on its own) of Patient, Observation and
// MedicationAdministration entries.
#include "medtwin/server/handlers.h"

#include <optional>
#include <set>

#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

Response FhirPostBundle(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const io::ObservationLimits limits = LimitsNow();
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "Bundle", b.error().message);
  if (!b->is_object() || StringMember(*b, "resourceType") != "Bundle") {
    return Outcome(400, "structure", "Bundle.resourceType", "POST a Bundle to the base");
  }
  const std::string type = StringMember(*b, "type");
  if (type != "transaction" && type != "batch") {
    return Outcome(400, "value", "Bundle.type", "transaction or batch");
  }
  const json entries =
      b->contains("entry") && (*b)["entry"].is_array() ? (*b)["entry"] : json::array();
  // Validate every entry first.
  struct Parsed {
    std::string error_where, error;
    json patient_doc;
    std::vector<record::Observation> observations;
    std::optional<record::Event> dose;
    bool not_given = false;  // a MedicationAdministration that records nothing
    bool forbidden = false;  // the caller may not write this entry
  };
  std::vector<Parsed> parsed(entries.size());
  std::set<std::string> bundle_patients;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json res =
        entries[i].is_object() && entries[i].contains("resource") ? entries[i]["resource"] : json();
    const std::string where = "Bundle.entry[" + std::to_string(i) + "].resource";
    const std::string rt = StringMember(res, "resourceType");
    if (rt == "Patient") {
      auto doc = io::FromFhirPatient(res);
      if (!doc.ok()) {
        parsed[i].error_where = where + "." + doc.error().field;
        parsed[i].error = doc.error().message;
        continue;
      }
      parsed[i].patient_doc = *doc;
      if (doc->contains("id")) bundle_patients.insert((*doc)["id"].get<std::string>());
    } else if (rt == "Observation") {
      auto obs = io::FromFhirObservation(res, limits);
      if (!obs.ok()) {
        parsed[i].error_where = where + "." + obs.error().field;
        parsed[i].error = obs.error().message;
        continue;
      }
      parsed[i].observations = std::move(*obs);
    } else if (rt == "MedicationAdministration") {
      auto dose = io::FromFhirMedicationAdministration(res, limits);
      if (!dose.ok()) {
        parsed[i].error_where = where + "." + dose.error().field;
        parsed[i].error = dose.error().message;
        continue;
      }
      parsed[i].dose = std::move(*dose);
      parsed[i].not_given = !parsed[i].dose.has_value();
    } else {
      parsed[i].error_where = where + ".resourceType";
      parsed[i].error =
          "'" + rt + "' is not accepted (Patient, Observation, MedicationAdministration)";
    }
  }
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    std::vector<std::string> subjects;
    for (const auto& o : parsed[i].observations) subjects.push_back(o.patient);
    if (parsed[i].dose) subjects.push_back(parsed[i].dose->patient);
    for (const auto& patient : subjects) {
      if (!service.Patient(patient) && bundle_patients.count(patient) == 0) {
        parsed[i].error_where = "Bundle.entry[" + std::to_string(i) + "].resource.subject";
        parsed[i].error = "unknown patient '" + patient + "'";
      }
    }
    // Authorization per entry: the patient it writes to.
    security::Decision d{true, ""};
    const std::string where = "Bundle.entry[" + std::to_string(i) + "]";
    // Data for a patient this bundle creates needs the right to create patients.
    auto check = [&](const std::string& patient, std::string_view resource) {
      if (!service.Patient(patient) && bundle_patients.count(patient) > 0) {
        return caller.Check("", "Patient", Interaction::kCreate);
      }
      return caller.Check(patient, resource, Interaction::kCreate);
    };
    if (!parsed[i].patient_doc.is_null()) {
      const std::string id = parsed[i].patient_doc.value("id", "");
      if (!id.empty() && service.Patient(id)) {
        d = caller.Check(id, "Patient", Interaction::kUpdate);
      } else {
        JoinCareTeam(parsed[i].patient_doc, caller);
        d = caller.Check("", "Patient", Interaction::kCreate);
      }
    }
    for (const auto& o : parsed[i].observations) {
      if (d.allowed) d = check(o.patient, "Observation");
    }
    if (parsed[i].dose && d.allowed) d = check(parsed[i].dose->patient, "MedicationAdministration");
    if (!d.allowed) {
      parsed[i].forbidden = true;
      parsed[i].error_where = where;
      parsed[i].error = "forbidden: " + d.reason;
    }
  }
  if (type == "transaction") {
    for (const auto& p : parsed) {
      if (p.forbidden) return Outcome(403, "forbidden", p.error_where, p.error);
    }
    for (const auto& p : parsed) {
      if (!p.error.empty()) return Outcome(400, "invalid", p.error_where, p.error);
    }
  }
  json response = {
      {"resourceType", "Bundle"}, {"type", type + "-response"}, {"entry", json::array()}};
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    auto& p = parsed[i];
    json entry_response;
    if (!p.error.empty()) {
      entry_response = {{"status", p.forbidden ? "403" : "400"},
                        {"outcome", io::OperationOutcome("invalid", p.error_where, p.error)}};
    } else if (p.not_given) {
      entry_response = {{"status", "200"},
                        {"outcome",
                         {{"resourceType", "OperationOutcome"},
                          {"issue",
                           {{{"severity", "information"},
                             {"code", "informational"},
                             {"diagnostics",
                              "not given (status not-done or entered-in-error): "
                              "nothing recorded"}}}}}}};
    } else if (p.dose) {
      const std::string why = IngestDose(service, *p.dose);
      if (why.empty()) {
        entry_response = {{"status", "201"},
                          {"location", "MedicationAdministration/" + DoseId(*p.dose)}};
      } else {
        entry_response = {
            {"status", "400"},
            {"outcome", io::OperationOutcome("invalid", "MedicationAdministration", why)}};
      }
    } else if (!p.patient_doc.is_null()) {
      const std::string id = p.patient_doc.value("id", "");
      Result<record::PatientRecord> r =
          !id.empty() && service.Patient(id)
              ? service.UpdatePatient(id, p.patient_doc, caller.Subject())
              : service.CreatePatient(p.patient_doc);
      if (r.ok()) {
        caller.Touch(r->id);
        entry_response = {{"status", "201"}, {"location", "Patient/" + r->id}};
      } else {
        entry_response = {
            {"status", "400"},
            {"outcome", io::OperationOutcome("invalid", r.error().field, r.error().message)}};
      }
    } else {
      std::vector<json> items;
      for (const auto& o : p.observations) {
        json j = io::ObservationToJson(o);
        items.push_back(j);
      }
      auto r = service.Ingest(items, "");
      if (r.ok() && r->rejected.empty()) {
        entry_response = {{"status", "201"},
                          {"location", "Observation/" + ObservationId(p.observations[0])}};
      } else {
        const std::string why =
            r.ok() ? r->rejected[0]["reason"].get<std::string>() : r.error().message;
        entry_response = {{"status", "400"},
                          {"outcome", io::OperationOutcome("invalid", "Observation", why)}};
      }
    }
    response["entry"].push_back({{"response", entry_response}});
  }
  return Fhir(200, response);
}

}  // namespace medtwin::server
