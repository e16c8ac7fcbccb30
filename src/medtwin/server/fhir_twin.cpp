// The twin's outputs in FHIR, searched by patient: MedicationRequest (the dose advice, intent
// proposal, and accepted advice, intent order; both status draft), RiskAssessment (NEWS2; the
// glucose twin's hypoglycemia risk) and DetectedIssue (the patient's open alerts).
#include "medtwin/server/handlers.h"

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/io/fhir.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"
#include "medtwin/server/twin_json.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// The patient's twin outputs of `type` as FHIR resources; null when there is no such patient.
json TwinOutputResources(TwinService& service, const std::string& id, const std::string& type) {
  auto view = service.engine().View(id, /*forecast_bands=*/false);
  if (!view) return nullptr;
  const json twin = TwinViewToJson(*view);
  json list = json::array();
  if (type == "MedicationRequest") {
    for (const auto& r : twin["recommendations"]) {
      list.push_back(io::ToFhirMedicationRequest(r, id, id + "-advice", false));
    }
    for (const auto& o : twin["orders"]) {
      const std::string at = o.value("accepted_at", "");
      auto t = ParseRfc3339(at);
      list.push_back(io::ToFhirMedicationRequest(
          o, id, id + "-order-" + std::to_string(t.ok() ? t->us_since_epoch : 0), true));
    }
  } else if (type == "RiskAssessment") {
    const json& n = twin["news2"];
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
    if (twin["model_state"].contains("glucose")) {
      const json& g = twin["model_state"]["glucose"];
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
    for (const auto& a : twin["alerts"]) {
      const std::string sev = a["severity"];
      list.push_back({{"resourceType", "DetectedIssue"},
                      {"id", a["id"].is_string() ? a["id"] : json(a["id"].dump())},
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
  return list;
}

Response TwinOutputs(const RouteRequest& rq, const std::string& type) {
  if (auto terms = SearchTerms(rq, type); !terms.ok()) {
    return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  }
  const std::string id = PatientInQuery(rq.query());
  if (id.empty()) return Outcome(400, "required", "patient", "search needs patient");
  json list = TwinOutputResources(rq.service, id, type);
  if (list.is_null()) return Outcome(404, "not-found", "patient", "no Patient/" + id);
  auto member = [](const char* name) {
    return [name](const json& r) { return r.value(name, ""); };
  };
  if (type == "MedicationRequest") {
    static const ListParam kParams[] = {{"authoredon", member("authoredOn"), nullptr},
                                        {"status", nullptr, TokenMember("status")},
                                        {"intent", nullptr, TokenMember("intent")},
                                        {"code", nullptr, CodingsOf("medicationCodeableConcept")}};
    return SearchList(rq, type, std::move(list), kParams, "authoredon");
  }
  if (type == "DetectedIssue") {
    static const ListParam kParams[] = {{"identified", member("identifiedDateTime"), nullptr},
                                        {"status", nullptr, TokenMember("status")}};
    return SearchList(rq, type, std::move(list), kParams, "identified");
  }
  static const ListParam kParams[] = {{"status", nullptr, TokenMember("status")}};
  return SearchList(rq, type, std::move(list), kParams, "");
}

// One twin output by id, once the id has told whose it is ("" when it cannot be anyone's).
Response TwinOutput(const RouteRequest& rq, const std::string& type, const std::string& patient) {
  const std::string& id = rq.param("id");
  auto not_found = [&] {
    return Outcome(404, "not-found", type + ".id", "no " + type + "/" + id.substr(0, 64));
  };
  if (patient.empty()) return not_found();
  // Found first, then the caller's access checked (as Observation/{id}): an id that names no
  // resource is 404 whoever asks, so no answer tells whether a patient exists.
  const json list = TwinOutputResources(rq.service, patient, type);
  if (!list.is_array()) return not_found();
  for (const auto& r : list) {
    if (r.value("id", "") != id) continue;
    if (auto d = rq.caller.Check(patient, type, security::Interaction::kRead); !d.allowed) {
      return Outcome(403, "forbidden", type, d.reason);
    }
    return Fhir(200, r);
  }
  return not_found();
}

// The patient an id made as "{patient}{suffix}" names, for the first suffix that fits.
std::string PatientBefore(const std::string& id, std::initializer_list<std::string_view> suffixes) {
  for (std::string_view suffix : suffixes) {
    const std::size_t at = id.rfind(suffix);
    if (at != std::string::npos && at > 0) return id.substr(0, at);
  }
  return "";
}

}  // namespace

Response FhirReadMedicationRequest(const RouteRequest& rq) {
  return TwinOutput(rq, "MedicationRequest", PatientBefore(rq.param("id"), {"-advice", "-order-"}));
}

Response FhirReadRiskAssessment(const RouteRequest& rq) {
  return TwinOutput(rq, "RiskAssessment",
                    PatientBefore(rq.param("id"), {"-news2", "-hypoglycemia"}));
}

Response FhirReadDetectedIssue(const RouteRequest& rq) {
  const auto alert_id = ParseUint64(rq.param("id"));
  const auto alert = alert_id ? rq.service.engine().FindAlert(*alert_id) : std::nullopt;
  return TwinOutput(rq, "DetectedIssue", alert ? alert->patient : std::string());
}

Response FhirSearchMedicationRequest(const RouteRequest& rq) {
  return TwinOutputs(rq, "MedicationRequest");
}

Response FhirSearchRiskAssessment(const RouteRequest& rq) {
  return TwinOutputs(rq, "RiskAssessment");
}

Response FhirSearchDetectedIssue(const RouteRequest& rq) {
  return TwinOutputs(rq, "DetectedIssue");
}

}  // namespace medtwin::server
