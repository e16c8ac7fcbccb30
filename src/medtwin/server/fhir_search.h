// server/fhir_search.h — FHIR R4 search parameters as the specification has them (§3.1.1.5):
// a search names only parameters the resource supports (others are refused with 400, unless the
// client sends `Prefer: handling=lenient`, §3.1.1.5.6); values separated by commas are ORed,
// repeated parameters ANDed; string parameters match the start of a word, ignoring case; date
// parameters take the prefixes eq, ne, gt, lt, ge, le over the precision given (YYYY,
// YYYY-MM, YYYY-MM-DD).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medtwin/core/result.h"
#include "medtwin/record/patient.h"
#include "medtwin/server/access.h"

namespace medtwin::server {

// One parameter as sent: its name and its comma-separated values (ORed).
struct SearchTerm {
  std::string name;
  std::vector<std::string> values;
};

// A search parameter a resource supports here. One table (fhir_search.cpp) serves both the
// handlers (SearchTerms refuses what is not in it) and the CapabilityStatement (every entry but
// the server's own paging cursor is listed), so the two cannot drift.
struct SearchParamSpec {
  std::string_view name;
  std::string_view type;  // FHIR SearchParamType: token, string, date, reference, number, special
  std::string_view documentation;
  bool in_capabilities = true;  // false: this server's own (the paging cursor)
};
[[nodiscard]] std::span<const SearchParamSpec> SearchParams(std::string_view resource);

// The request's search terms, checked against SearchParams(resource) (its parameters and the
// result parameters it honours); an unsupported one is an error naming it unless lenient, when
// it is dropped. Errors name the parameter ("Patient?gender").
[[nodiscard]] Result<std::vector<SearchTerm>> SearchTerms(const RouteRequest& rq,
                                                          std::string_view resource);

// String search: some word of `text` starts with `query`, ignoring ASCII case.
[[nodiscard]] bool StringMatches(std::string_view text, std::string_view query);

// Date search (R4 §3.1.1.5.7): a date or dateTime stands for the range its precision gives
// (a year, a month, a day, the second of a dateTime or the fraction of it given), [lo, hi] in
// µs; a query is [prefix]date with
// prefix eq (default), ne, gt, lt, ge or le, compared range to range. The one rule for
// Observation date, Patient birthdate and _lastUpdated.
struct DateRange {
  Instant lo, hi;  // inclusive
};
[[nodiscard]] Result<DateRange> FhirDateRange(std::string_view text);
struct DateQuery {
  std::string prefix;  // eq, ne, gt, lt, ge, le
  DateRange range;
};
// Errors name `parameter`.
[[nodiscard]] Result<DateQuery> ParseDateQuery(std::string_view value, std::string_view parameter);
[[nodiscard]] bool DateQueryMatches(const DateQuery& q, const DateRange& value);
// Every value of `resource`'s date-type parameters among `terms` is a date query (checked before
// any record is looked at, so an answer never depends on what a bad value would match); the
// error names the parameter.
[[nodiscard]] Status CheckDateTerms(std::string_view resource,
                                    const std::vector<SearchTerm>& terms);
// A stored date or dateTime text against a query; a value that is not a date never matches.
[[nodiscard]] Result<bool> DateMatches(std::string_view date, std::string_view query,
                                       std::string_view parameter);

// A next or previous link: the search as received with `_cursor` set to `position` (encoded;
// a position is the server's own: a key after which, or, starting with '<', before which the
// page lies).
[[nodiscard]] std::string PageLink(const RouteRequest& rq, std::string_view resource,
                                   const std::string& position);
// `_cursor` as PageLink wrote it; an error naming _cursor for anything else.
[[nodiscard]] Result<std::string> PagePosition(std::string_view cursor);
// `_count`: 1..`max`.
[[nodiscard]] Result<std::size_t> PageSize(std::string_view count, std::size_t max);

// The paging and result parameters of a search (R4 §3.1.1.5.4–§3.1.1.5.8): _count (1..max),
// the server's _cursor, _sort on `sort_param` (or -`sort_param`; "" when the resource has no
// sort), _summary=count. Errors name the parameter (kUnimplemented: a value not supported).
struct Paging {
  std::size_t count = 100;
  std::string after, before;  // the page lies just after `after` (next) or before `before`
  bool descending = false;
  bool summary_count = false;
};
[[nodiscard]] Result<Paging> ReadPaging(const std::vector<SearchTerm>& terms, std::size_t max_count,
                                        std::string_view sort_param = "");
// The page [start, end) of matches whose keys (the order the search sorts by, unique, one per
// match; descending when `paging` says) are `keys`: after `after`, or the `count` just before
// `before`, or the first `count`.
struct PageBounds {
  std::size_t start = 0, end = 0;
};
// The 400 for a paging parameter ReadPaging refused.
[[nodiscard]] Response PagingRefused(const Error& e);
[[nodiscard]] PageBounds PageOf(const std::vector<std::string>& keys, const Paging& paging);
// The searchset's next and previous links for that page (none where there is nothing).
void AddPageLinks(nlohmann::json& bundle, const RouteRequest& rq, std::string_view resource,
                  const std::vector<std::string>& keys, PageBounds page);

// Search over resources already built in memory (a patient's doses, the twin's outputs, the
// newest audit records). Each supported parameter reads the resource: a date parameter its
// date (R4 date rules, DateMatches), a token parameter its codes as (system, code) pairs
// (TokenMatches). `_id` is built in; matches are sorted by `sort`'s date, then id.
struct ListParam {
  std::string_view name;
  std::function<std::string(const nlohmann::json&)> date;  // a date parameter
  std::function<std::vector<std::pair<std::string, std::string>>(const nlohmann::json&)>
      tokens;  // a token parameter: (system, code) pairs
};
// Token readers for ListParam: a string member as a code without a system (status, intent);
// the codings of a CodeableConcept member (medicationCodeableConcept).
using TokenReader =
    std::function<std::vector<std::pair<std::string, std::string>>(const nlohmann::json&)>;
[[nodiscard]] TokenReader TokenMember(std::string member);
[[nodiscard]] TokenReader CodingsOf(std::string member);
// The searchset for `resources` under the request's terms (checked against
// SearchParams(resource)); `sort` names the date parameter results are ordered by ("": by id).
[[nodiscard]] Response SearchList(const RouteRequest& rq, std::string_view resource,
                                  nlohmann::json resources, std::span<const ListParam> params,
                                  std::string_view sort, bool newest_first = false,
                                  std::size_t max_count = 1000);

// Token search on a system|value pair: "value" (any system), "system|value", "|value" (no
// system), "system|" (any value in the system).
[[nodiscard]] bool TokenMatches(std::string_view system, std::string_view value,
                                std::string_view query);

// A conditional create's condition (If-None-Exist, Bundle.entry.request.ifNoneExist;
// fhir_patient.cpp): only identifier=system|value, and only from a caller who may create
// patients, so it is no way to probe for patients. The patient it matches, or none (create);
// errors name `where`: kPermissionDenied (may not create, or the match is outside the
// caller's access), kInvalidArgument (not such a condition), kFailedPrecondition (several
// match).
[[nodiscard]] Result<std::optional<record::PatientRecord>> MatchCondition(TwinService& service,
                                                                          const Caller& caller,
                                                                          std::string_view query,
                                                                          const std::string& where);

}  // namespace medtwin::server
