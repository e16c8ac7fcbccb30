// server/access.h — every route the server answers, with what it touches and the handler that
// answers it, and the caller of a request. A request reaches a handler only through this table:
// a path that is not in it is 404 (405 for another method), and each entry says which resource
// type and interaction it is and where its patient comes from, so authorization is decided
// before any handler runs (and cannot be forgotten by a new route). The handler receives the
// path parameters the match extracted. Handlers that touch several patients (bulk ingest,
// Bundles, lists, the live stream) ask the Caller per patient. Handlers live in files by
// resource (api_*.cpp, fhir_*.cpp; declared in handlers.h).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "medtwin/security/access.h"
#include "medtwin/server/http_server.h"
#include "medtwin/store/store.h"

namespace medtwin::server {

class TwinService;
class Caller;
struct AuthOptions;

// A request target split: decoded path segments and query parameters (repeated ones, such as
// FHIR's date, in all_query).
struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  std::multimap<std::string, std::string> all_query;
};
// Splits and percent-decodes "/a/b%2Fc?x=1&y=2".
[[nodiscard]] Target SplitTarget(std::string_view target);

// What a route's handler is given: the request, its target, the parameters its route
// extracted ({id}, {path*}), and the authorized caller.
struct RouteRequest {
  TwinService& service;
  const Request& req;
  const Target& target;
  const std::map<std::string, std::string>& params;
  const Caller& caller;
  const AuthOptions& auth;
  [[nodiscard]] const std::string& param(const std::string& name) const { return params.at(name); }
  [[nodiscard]] const std::map<std::string, std::string>& query() const { return target.query; }
};
using RouteHandler = Response (*)(const RouteRequest&);

enum class PatientFrom {
  kNone,   // not patient data, or a list the handler filters
  kPath,   // the {id} path parameter
  kQuery,  // the `patient` (or `subject`) query parameter; absent: a filtered list
  kBody,   // named inside the body (per item): the handler checks each
};

struct RouteSpec {
  http::verb method;
  std::string path;  // "/api/v1/patients/{id}/observations"
  bool is_public = false;
  std::string resource;  // FHIR resource type the scopes speak of
  security::Interaction interaction = security::Interaction::kRead;
  PatientFrom patient_from = PatientFrom::kNone;
  RouteHandler handler = nullptr;
};

// Every route, in matching order.
[[nodiscard]] const std::vector<RouteSpec>& ApiRoutes();

// The route for `method` and `segments`, with its {params}; nullptr if none. `path_known` is
// set when some route has this path (so the answer is 405, not 404).
[[nodiscard]] const RouteSpec* MatchRoute(http::verb method,
                                          const std::vector<std::string>& segments,
                                          std::map<std::string, std::string>* params,
                                          bool* path_known);

// The patient a request to `route` names (its authorization asks about them, its audit record
// names them): the {id} in the path or the patient in the query; "" for other routes.
[[nodiscard]] std::string RoutePatient(const RouteSpec& route,
                                       const std::map<std::string, std::string>& params,
                                       const Target& target);

// The `patient` (or `subject`) query parameter without a "Patient/" prefix; "" if absent.
[[nodiscard]] std::string PatientInQuery(const std::map<std::string, std::string>& query);

// Who is asking, and what they may do to whose data.
class Caller {
 public:
  Caller(TwinService& service, std::optional<security::Claims> claims)
      : service_(service), claims_(std::move(claims)) {}
  [[nodiscard]] const std::optional<security::Claims>& claims() const { return claims_; }
  // The decision for one patient ("" for a list across patients).
  [[nodiscard]] security::Decision Check(const std::string& patient, std::string_view resource,
                                         security::Interaction what) const;
  [[nodiscard]] bool May(const std::string& patient, std::string_view resource,
                         security::Interaction what) const {
    return Check(patient, resource, what).allowed;
  }
  // The token's subject ("unknown" without a token): who did what, for records and orders.
  [[nodiscard]] std::string Subject() const { return claims_ ? claims_->subject : "unknown"; }
  // A clinician creating a patient joins its care team.
  [[nodiscard]] std::string ClinicianSubject() const;
  // A patient the request created (for the audit trail).
  void Touch(const std::string& patient) const { touched_.insert(patient); }
  // The patients this request was allowed to touch (for the audit trail), plus `also`.
  [[nodiscard]] std::vector<std::string> Touched(const std::string& also = "") const;

 private:
  TwinService& service_;
  std::optional<security::Claims> claims_;
  mutable std::map<std::tuple<std::string, std::string, int>, security::Decision> cache_;
  mutable std::set<std::string> touched_;
};

// Requests per second per token (token bucket, burst = 2 s worth).
class RateLimiter {
 public:
  explicit RateLimiter(double per_second) : rate_(per_second) {}
  // False when `token_id` has used its budget.
  bool Allow(const std::string& token_id);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  Bucket& Refill(const std::string& key);
  double rate_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// Revoked token ids (jti), read from the store (`medtwin token revoke` writes there, from any
// process) at most once a second, so a revocation takes effect within a second on every request
// and every open stream.
class RevocationList {
 public:
  explicit RevocationList(store::Store& store) : store_(store) {}
  [[nodiscard]] bool Revoked(const std::string& token_id);

 private:
  store::Store& store_;
  std::mutex mu_;
  std::set<std::string> revoked_;
  std::chrono::steady_clock::time_point loaded_{};
};

// `--public-url`: http(s)://host[:port][/path] without query or fragment, returned without a
// trailing '/'. Errors name the option.
[[nodiscard]] Result<std::string> PublicBaseUrl(std::string_view url);

struct AuthOptions {
  security::SigningKey key;
  bool https = false;  // the server speaks TLS (FHIR fullUrls and links say https)
  // serve --public-url without a trailing '/' ("https://twin.hospital.org"); "" to build links
  // from the request's Host (when it is a plain authority).
  std::string public_url;
  double rate_limit_per_s = 1000;
  // Requests failing authentication per second per client address (burst: twice that); past
  // it the address's refusals are 429s (and aggregated in the audit trail).
  double auth_failures_per_s = 10;
  // The least k a research export may use (k-anonymity), whatever a researcher asks for.
  int research_min_k = 5;
  // Benchmarks only (`serve --unsafe-no-security`, loopback only): every request is an
  // unaudited administrator, to measure what security costs.
  bool disabled = false;
};

}  // namespace medtwin::server
