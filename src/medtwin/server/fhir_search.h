// server/fhir_search.h — FHIR R4 search parameters as the specification has them (§3.1.1.5):
// a search names only parameters the resource supports (others are refused with 400, unless the
// client sends `Prefer: handling=lenient`, §3.1.1.5.6); values separated by commas are ORed,
// repeated parameters ANDed; string parameters match the start of a word, ignoring case; date
// parameters take the prefixes eq, ne, gt, lt, ge, le over the precision given (YYYY,
// YYYY-MM, YYYY-MM-DD).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/record/patient.h"
#include "medtwin/server/access.h"

namespace medtwin::server {

// One parameter as sent: its name and its comma-separated values (ORed).
struct SearchTerm {
  std::string name;
  std::vector<std::string> values;
};

// The request's search terms, checked against `supported` (the resource's parameters and the
// result parameters it honours); an unsupported one is an error naming it unless lenient, when
// it is dropped. Errors name the parameter ("Patient?gender").
[[nodiscard]] Result<std::vector<SearchTerm>> SearchTerms(
    const RouteRequest& rq, std::string_view resource, std::span<const std::string_view> supported);

// String search: some word of `text` starts with `query`, ignoring ASCII case.
[[nodiscard]] bool StringMatches(std::string_view text, std::string_view query);

// Date search on a YYYY[-MM[-DD]] value: `query` is [prefix]YYYY[-MM[-DD]]; the value and the
// query each stand for the range of days they cover. Error: a query that is not such a date.
[[nodiscard]] Result<bool> DateMatches(std::string_view date, std::string_view query);

// Token search on a system|value pair: "value" (any system), "system|value", "|value" (no
// system), "system|" (any value in the system).
[[nodiscard]] bool TokenMatches(std::string_view system, std::string_view value,
                                std::string_view query);

// Patient's search parameters, and the patients matching `terms` (fhir_patient.cpp), among all:
// each use checks the caller's access to what it found.
[[nodiscard]] std::span<const std::string_view> PatientSearchParameters();
[[nodiscard]] Result<std::vector<record::PatientRecord>> SearchPatients(
    TwinService& service, const std::vector<SearchTerm>& terms);
// A conditional create's query ("identifier=system|value&…", If-None-Exist or
// Bundle.entry.request.ifNoneExist) as Patient search terms; errors name `where`.
[[nodiscard]] Result<std::vector<SearchTerm>> PatientCondition(std::string_view query,
                                                               const std::string& where);

}  // namespace medtwin::server
