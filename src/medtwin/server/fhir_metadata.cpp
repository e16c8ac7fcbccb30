// GET /fhir/r4/metadata: what this endpoint supports (R4 CapabilityStatement).
#include "medtwin/server/handlers.h"

#include "medtwin/server/api_common.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

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

}  // namespace

Response FhirMetadata(const RouteRequest&) { return Fhir(200, CapabilityStatement()); }

}  // namespace medtwin::server
