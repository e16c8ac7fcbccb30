// FHIR R4 under /fhir/r4: metadata, Patient (create, update, read, search), Observation
// (create, search by patient, code, date), Bundle transaction (all entries validated before any
// is applied; all or nothing) and batch (each entry on its own), and the twin's outputs as
// RiskAssessment (NEWS2) and DetectedIssue (alerts). MedicationAdministration (create, search,
// in Bundles: doses for the drug twins) and MedicationRequest (search: the twin's dose advice,
// intent proposal, and accepted advice, intent order; both status draft). Errors are
// OperationOutcome resources.
#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "medtwin/core/text.h"
#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/server/service.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

Response Fhir(unsigned status, const json& body) {
  Response r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = io::DumpJson(body);
  return r;
}

Response Outcome(unsigned status, const std::string& type, const std::string& where,
                 const std::string& why) {
  return Fhir(status, io::OperationOutcome(type, where, why));
}

json CapabilityStatement() {
  auto resource = [](const char* type, std::vector<const char*> interactions,
                     std::vector<std::pair<const char*, const char*>> params) {
    json r = {{"type", type}, {"interaction", json::array()}, {"searchParam", json::array()}};
    for (const char* i : interactions) r["interaction"].push_back({{"code", i}});
    for (const auto& [n, t] : params) r["searchParam"].push_back({{"name", n}, {"type", t}});
    return r;
  };
  return {{"resourceType", "CapabilityStatement"},
          {"status", "active"},
          {"date", "2026-11-25"},
          {"kind", "instance"},
          {"software", {{"name", "medtwin"}, {"version", "0.1.0"}}},
          {"fhirVersion", "4.0.1"},
          {"format", {"json"}},
          {"rest",
           {{{"mode", "server"},
             {"resource",
              {resource("Patient", {"read", "search-type", "create", "update"}, {}),
               resource("Observation", {"search-type", "create"},
                        {{"patient", "reference"}, {"code", "token"}, {"date", "date"}}),
               resource("MedicationAdministration", {"search-type", "create"},
                        {{"patient", "reference"}}),
               resource("MedicationRequest", {"search-type"}, {{"patient", "reference"}}),
               resource("AuditEvent", {"search-type"}, {{"_count", "number"}}),
               resource("RiskAssessment", {"search-type"}, {{"patient", "reference"}}),
               resource("DetectedIssue", {"search-type"}, {{"patient", "reference"}})}},
             {"interaction", {{{"code", "transaction"}}, {{"code", "batch"}}}}}}}};
}

json Searchset(const json& resources) {
  json b = {{"resourceType", "Bundle"},
            {"type", "searchset"},
            {"total", resources.size()},
            {"entry", json::array()}};
  for (const auto& r : resources) b["entry"].push_back({{"resource", r}});
  return b;
}

std::string ObservationId(const record::Observation& o) {
  return o.patient + "-" + o.code + "-" + std::to_string(o.time.us_since_epoch);
}

// A string member of an untrusted object, or "" (never an exception).
std::string StringMember(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

std::string DoseId(const record::Event& e) {
  return e.patient + "-dose-" + std::to_string(e.time.us_since_epoch);
}

// Stores one dose through the service's event path; "" or the reason it was refused.
std::string IngestDose(TwinService& service, const record::Event& dose) {
  auto r = service.IngestEvents({io::EventToJson(dose)}, "");
  if (!r.ok()) return r.error().message;
  if (!r->rejected.empty()) return r->rejected[0]["reason"].get<std::string>();
  return "";
}

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

Response HandleFhir(TwinService& service, const Request& req, const std::vector<std::string>& seg,
                    const std::map<std::string, std::string>& query,
                    const std::multimap<std::string, std::string>& all_query,
                    const Caller& caller) {
  using http::verb;
  using security::Interaction;
  const auto method = req.method();
  // seg[0] = "fhir", seg[1] = "r4".
  if (seg.size() == 3 && seg[2] == "metadata" && method == verb::get) {
    return Fhir(200, CapabilityStatement());
  }
  auto body = [&]() -> Result<json> { return io::ParseUntrustedJson(req.body(), "body"); };
  const io::ObservationLimits limits = LimitsNow();

  // Bundles.
  if (seg.size() == 2 && method == verb::post) {
    auto b = body();
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
      const json res = entries[i].is_object() && entries[i].contains("resource")
                           ? entries[i]["resource"]
                           : json();
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
      if (parsed[i].dose && d.allowed)
        d = check(parsed[i].dose->patient, "MedicationAdministration");
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

  if (seg.size() < 3) return Outcome(404, "not-found", "path", "no such FHIR endpoint");
  const std::string& type = seg[2];
  if (type == "Patient") {
    if (seg.size() == 3 && method == verb::get) {
      json list = json::array();
      for (const auto& p : service.Patients()) {
        if (caller.May(p.id, "Patient", Interaction::kSearch)) {
          list.push_back(io::ToFhirPatient(io::PatientToJson(p)));
        }
      }
      return Fhir(200, Searchset(list));
    }
    if (seg.size() == 3 && method == verb::post) {
      auto b = body();
      if (!b.ok()) return Outcome(400, "structure", "Patient", b.error().message);
      auto doc = io::FromFhirPatient(*b);
      if (!doc.ok()) return Outcome(400, "invalid", doc.error().field, doc.error().message);
      JoinCareTeam(*doc, caller);
      auto p = service.CreatePatient(*doc);
      if (!p.ok())
        return Outcome(p.error().code == ErrorCode::kAlreadyExists ? 409 : 400,
                       p.error().code == ErrorCode::kAlreadyExists ? "duplicate" : "invalid",
                       p.error().field, p.error().message);
      caller.Touch(p->id);
      return Fhir(201, io::ToFhirPatient(io::PatientToJson(*p)));
    }
    if (seg.size() == 4) {
      const std::string& id = seg[3];
      if (method == verb::get) {
        auto p = service.Patient(id);
        if (!p) return Outcome(404, "not-found", "Patient.id", "no Patient/" + id);
        return Fhir(200, io::ToFhirPatient(io::PatientToJson(*p)));
      }
      if (method == verb::put) {
        auto b = body();
        if (!b.ok()) return Outcome(400, "structure", "Patient", b.error().message);
        auto doc = io::FromFhirPatient(*b);
        if (!doc.ok()) return Outcome(400, "invalid", doc.error().field, doc.error().message);
        (*doc)["id"] = id;
        const bool exists = service.Patient(id).has_value();
        if (!exists) JoinCareTeam(*doc, caller);
        auto p = exists ? service.UpdatePatient(id, *doc, caller.Subject())
                        : service.CreatePatient(*doc);
        if (!p.ok()) return Outcome(400, "invalid", p.error().field, p.error().message);
        return Fhir(exists ? 200 : 201, io::ToFhirPatient(io::PatientToJson(*p)));
      }
    }
    return Outcome(405, "not-supported", "Patient", "unsupported interaction");
  }
  if (type == "Observation" && seg.size() == 3) {
    if (method == verb::post) {
      auto b = body();
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
    if (method == verb::get) {
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
  }
  if (type == "MedicationAdministration" && seg.size() == 3) {
    if (method == verb::post) {
      auto b = body();
      if (!b.ok()) return Outcome(400, "structure", type, b.error().message);
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
    if (method == verb::get) {
      const std::string id = PatientInQuery(query);
      if (id.empty()) return Outcome(400, "required", "patient", "search needs patient");
      if (!service.Patient(id)) return Outcome(404, "not-found", "patient", "no Patient/" + id);
      auto events = service.store().QueryEvents(id, std::nullopt, std::nullopt, 100'000);
      if (!events.ok()) return Outcome(503, "transient", "store", events.error().message);
      json list = json::array();
      for (const auto& e : *events) {
        if (e.type == "dose") list.push_back(io::ToFhirMedicationAdministration(e, DoseId(e)));
      }
      return Fhir(200, Searchset(list));
    }
  }
  if (type == "AuditEvent" && seg.size() == 3 && method == verb::get) {
    AuditLog* log = service.audit_log();
    if (log == nullptr) return Outcome(404, "not-found", "AuditEvent", "no audit log");
    std::size_t count = 100;
    if (auto it = query.find("_count"); it != query.end()) {
      count = static_cast<std::size_t>(ParseUint64(it->second).value_or(0));
      if (count < 1 || count > 10'000) return Outcome(400, "value", "_count", "1..10000");
    }
    log->Flush();
    auto rows = service.store().RecentAudit(count);
    if (!rows.ok()) return Outcome(503, "transient", "store", rows.error().message);
    json list = json::array();
    for (const auto& row : *rows) {
      if (auto rec = security::ParseAuditRecord(row.text); rec.ok()) {
        list.push_back(security::ToFhirAuditEvent(*rec));
      }
    }
    return Fhir(200, Searchset(list));
  }
  if (type == "MedicationRequest" && seg.size() == 3 && method == verb::get) {
    const std::string id = PatientInQuery(query);
    if (id.empty()) return Outcome(400, "required", "patient", "search needs patient");
    auto twin = service.engine().TwinJson(id);
    if (!twin) return Outcome(404, "not-found", "patient", "no Patient/" + id);
    json list = json::array();
    for (const auto& r : (*twin)["recommendations"]) {
      list.push_back(io::ToFhirMedicationRequest(r, id, id + "-advice", false));
    }
    for (const auto& o : (*twin)["orders"]) {
      const std::string at = o.value("accepted_at", "");
      auto t = ParseRfc3339(at);
      list.push_back(io::ToFhirMedicationRequest(
          o, id, id + "-order-" + std::to_string(t.ok() ? t->us_since_epoch : 0), true));
    }
    return Fhir(200, Searchset(list));
  }
  if ((type == "RiskAssessment" || type == "DetectedIssue") && seg.size() == 3 &&
      method == verb::get) {
    const std::string id = PatientInQuery(query);
    if (id.empty()) return Outcome(400, "required", "patient", "search needs patient");
    auto twin = service.engine().TwinJson(id);
    if (!twin) return Outcome(404, "not-found", "patient", "no Patient/" + id);
    json list = json::array();
    if (type == "RiskAssessment") {
      const json& n = (*twin)["news2"];
      json ra = {{"resourceType", "RiskAssessment"},
                 {"id", id + "-news2"},
                 {"status", n["complete"].get<bool>() ? "final" : "preliminary"},
                 {"subject", {{"reference", "Patient/" + id}}},
                 {"method", {{"text", "NEWS2 (Royal College of Physicians, 2017)"}}},
                 {"prediction", json::array()}};
      json pred = {{"outcome", {{"text", "clinical deterioration"}}}};
      if (!n["risk"].is_null()) pred["qualitativeRisk"] = {{"text", n["risk"]}};
      if (!n["total"].is_null())
        pred["rationale"] = "NEWS2 total " + std::to_string(n["total"].get<int>());
      ra["prediction"].push_back(pred);
      list.push_back(ra);
      if ((*twin)["model_state"].contains("glucose")) {
        const json& g = (*twin)["model_state"]["glucose"];
        list.push_back(
            {{"resourceType", "RiskAssessment"},
             {"id", id + "-hypoglycemia"},
             {"status", "final"},
             {"subject", {{"reference", "Patient/" + id}}},
             {"method", {{"text", "medtwin glucose twin (UVA/Padova + UKF), 30-min forecast"}}},
             {"prediction",
              {{{"outcome", {{"text", "hypoglycemia (glucose < 70 mg/dL) within 30 min"}}},
                {"qualitativeRisk",
                 {{"text", g["hypoglycemia_predicted"].get<bool>() ? "high" : "low"}}},
                {"rationale",
                 "lowest forecast " +
                     std::to_string(static_cast<int>(g["lowest_next_30min_mg_dl"].get<double>())) +
                     " mg/dL"}}}}});
      }
    } else {
      for (const auto& a : (*twin)["alerts"]) {
        const std::string sev = a["severity"];
        list.push_back({{"resourceType", "DetectedIssue"},
                        {"id", a["id"]},
                        {"status", a["status"] == "open" ? "preliminary" : "final"},
                        {"severity", sev == "critical" || sev == "high" ? "high"
                                     : sev == "medium"                  ? "moderate"
                                                                        : "low"},
                        {"patient", {{"reference", "Patient/" + id}}},
                        {"identifiedDateTime", a["raised_at"]},
                        {"code", {{"text", a["kind"]}}},
                        {"detail", a["message"]}});
      }
    }
    return Fhir(200, Searchset(list));
  }
  return Outcome(404, "not-found", "path", "no such FHIR endpoint");
}

}  // namespace medtwin::server
