// GET /fhir/r4/metadata: what this endpoint supports (R4 CapabilityStatement), generated from
// the route table (ApiRoutes) and the search parameter table (SearchParams), so it says what the
// handlers do and cannot drift from them.
#include "medtwin/server/handlers.h"

#include <map>

#include "medtwin/core/time.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

constexpr std::string_view kFhirPrefix = "/fhir/r4";

// The interaction a route is (R4 TypeRestfulInteraction), by method and what follows the type
// in its path ("", "/{id}", "/{id}/_history", "/{id}/_history/{vid}").
const char* InteractionOf(http::verb method, std::string_view after_type) {
  const bool instance = !after_type.empty();
  if (after_type.ends_with("/_history"))
    return method == http::verb::get ? "history-instance" : nullptr;
  if (after_type.find("/_history/") != std::string_view::npos) {
    return method == http::verb::get ? "vread" : nullptr;
  }
  if (instance) {
    if (method == http::verb::get) return "read";
    if (method == http::verb::put) return "update";
    if (method == http::verb::patch) return "patch";
    if (method == http::verb::delete_) return "delete";
    return nullptr;
  }
  if (method == http::verb::get) return "search-type";
  if (method == http::verb::post) return "create";
  return nullptr;
}

json CapabilityStatement(const std::string& base, const std::string& started) {
  // Resource type → interactions, in the order routes list them.
  std::map<std::string, std::vector<std::string>> interactions;
  bool system_transaction = false;
  for (const RouteSpec& r : ApiRoutes()) {
    if (!r.path.starts_with(kFhirPrefix)) continue;
    std::string_view rest = std::string_view(r.path).substr(kFhirPrefix.size());
    if (rest.empty() && r.method == http::verb::post) system_transaction = true;
    if (rest.size() < 2 || rest == "/metadata") continue;
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    const std::string type(rest.substr(0, slash));
    const std::string_view after_type =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (const char* code = InteractionOf(r.method, after_type)) {
      interactions[type].push_back(code);
    }
  }
  json resources = json::array();
  for (const auto& [type, codes] : interactions) {
    json resource = {{"type", type}, {"interaction", json::array()}};
    for (const auto& c : codes) resource["interaction"].push_back({{"code", c}});
    json params = json::array();
    for (const SearchParamSpec& p : SearchParams(type)) {
      if (!p.in_capabilities) continue;
      params.push_back({{"name", p.name}, {"type", p.type}, {"documentation", p.documentation}});
    }
    if (!params.empty()) resource["searchParam"] = std::move(params);
    if (type == "Patient") {
      resource["versioning"] = "versioned-update";  // If-Match on update (412 when stale)
      resource["readHistory"] = true;
      resource["conditionalCreate"] = true;  // If-None-Exist: identifier=system|value
      resource["updateCreate"] = true;       // PUT of a new id (administrators)
    }
    if (type == "Observation") {
      resource["searchInclude"] = {"Observation:patient"};
      resource["supportedProfile"] = {"http://hl7.org/fhir/StructureDefinition/vitalsigns",
                                      "http://hl7.org/fhir/StructureDefinition/bp"};
    }
    resources.push_back(std::move(resource));
  }
  json rest = {
      {"mode", "server"},
      {"security",
       {{"cors", false},
        {"service",
         {{{"coding",
            {{{"system", "http://terminology.hl7.org/CodeSystem/restful-security-service"},
              {"code", "SMART-on-FHIR"}}}}}}},
        {"description",
         "Bearer tokens (Authorization: Bearer …) carrying a role, a patient context and "
         "SMART v2 scopes (patient/*.rs, user/Observation.cruds, system/*.read; v1 .read/.write "
         "accepted), enforced on every interaction; every access is audited "
         "(docs/security.md)."}}},
      {"resource", std::move(resources)}};
  if (system_transaction) {
    rest["interaction"] = {{{"code", "transaction"}}, {{"code", "batch"}}};
  }
  return {
      {"resourceType", "CapabilityStatement"},
      {"status", "active"},
      {"date", started},
      {"publisher", "medtwin"},
      {"kind", "instance"},
      {"software", {{"name", "medtwin"}, {"version", MEDTWIN_VERSION}}},
      {"implementation", {{"description", "medtwin patient digital twin server"}, {"url", base}}},
      {"fhirVersion", "4.0.1"},
      {"format", {"json", "application/fhir+json"}},
      {"rest", {std::move(rest)}}};
}

}  // namespace

Response FhirMetadata(const RouteRequest& rq) {
  // Dated when this server first described itself (the instance has not changed since).
  static const std::string started = FormatRfc3339(WallClockNow());
  return Fhir(200, CapabilityStatement(FhirBase(rq), started));
}

}  // namespace medtwin::server
