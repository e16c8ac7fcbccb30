// The API's front door: every request is matched against the route table (access.h), then
// authenticated (bearer token, revocation, per-address budget of failures, per-token rate
// limit), authorized for its route, audited whatever its outcome, and answered by the route's
// handler (handlers.h). No path matching happens here or in any handler.
#include <chrono>

#include "medtwin/core/text.h"
#include "medtwin/io/fhir.h"
#include "medtwin/server/access.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/audit_log.h"
#include "medtwin/server/handlers.h"
#include "medtwin/server/service.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// 401 and 403 in the API's error shape, or as an OperationOutcome under /fhir.
Response Denied(bool fhir, unsigned status, const std::string& why) {
  Response r;
  if (fhir) {
    r = Json(status, io::OperationOutcome(status == 401   ? "login"
                                          : status == 429 ? "throttled"
                                                          : "forbidden",
                                          "Authorization", why));
    r.content_type = "application/fhir+json";
  } else {
    r = Fail(status,
             status == 401   ? "unauthorized"
             : status == 429 ? "rate_limited"
                             : "forbidden",
             "authorization", why);
  }
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"medtwin\"");
  if (status == 429) r.headers.emplace_back("Retry-After", "1");
  return r;
}

// An open stream's periodic check (http_server.h): its token not revoked, its access as it is
// now (care team, consent), and an audit record naming the patients whose events it delivered
// since the last check. nullopt ends the stream.
std::function<std::optional<std::vector<std::string>>(const std::vector<std::string>&)> StreamCheck(
    TwinService& service, security::Claims claims, std::shared_ptr<RevocationList> revoked,
    const Target& t, const security::AuditEntry& opened) {
  security::AuditEntry base = opened;
  base.action = "STREAM /api/v1/stream (events delivered)";
  base.outcome = 200;
  auto query = t.query;
  query.erase("access_token");
  return [&service, claims = std::move(claims), revoked = std::move(revoked), base,
          query = std::move(query)](
             const std::vector<std::string>& delivered) -> std::optional<std::vector<std::string>> {
    if (!delivered.empty()) {
      security::AuditEntry e = base;
      e.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
      e.patients = delivered;
      service.Audit(std::move(e));
    }
    if (!claims.token_id.empty() && revoked->Revoked(claims.token_id)) return std::nullopt;
    const Caller caller(service, claims);  // fresh: no decisions cached from before
    bool all = false;
    std::vector<std::string> topics;
    SelectStream(service, caller, query, &all, &topics);
    // A stream of one patient ends when that patient is no longer allowed; a list stream
    // stays open (patients may be put in the caller's care later).
    if (query.contains("patient") && topics.empty()) return std::nullopt;
    return topics;
  };
}

}  // namespace

void JoinCareTeam(json& patient_doc, const Caller& caller) {
  const std::string subject = caller.ClinicianSubject();
  if (subject.empty() || !patient_doc.is_object()) return;
  json& team = patient_doc["care_team"];
  if (!team.is_array()) team = json::array();
  for (const auto& m : team) {
    if (m == subject) return;
  }
  team.push_back(subject);
}

Handler MakeApiHandler(TwinService& service, std::shared_ptr<const AuthOptions> auth) {
  auto limiter = std::make_shared<RateLimiter>(auth->rate_limit_per_s);
  // Requests that fail authentication, per client address (AuthOptions::auth_failures_per_s);
  // past that an address is refused (429) before any token is looked at.
  auto refused_by_address = std::make_shared<RateLimiter>(auth->auth_failures_per_s);
  auto revoked = std::make_shared<RevocationList>(service.store());
  return [&service, auth, limiter, refused_by_address, revoked](const Request& req) -> Response {
    ++service.metrics().http_requests;
    const Target t = SplitTarget(std::string_view(req.target().data(), req.target().size()));
    const bool fhir = t.segments.size() >= 2 && t.segments[0] == "fhir" && t.segments[1] == "r4";
    std::map<std::string, std::string> params;
    bool path_known = false;
    const RouteSpec* route = MatchRoute(req.method(), t.segments, &params, &path_known);
    if (route == nullptr) {
      if (path_known && fhir) {
        return Outcome(405, "not-supported", "method",
                       std::string(req.method_string()) + " is not allowed on this resource");
      }
      if (path_known) return Fail(405, "method", "method", "not allowed on this resource");
      if (fhir) {
        Response r = Json(404, io::OperationOutcome("not-found", "path", "no such FHIR endpoint"));
        r.content_type = "application/fhir+json";
        return r;
      }
      return Fail(404, "not_found", "path", "no such resource");
    }
    // FHIR speaks JSON here: other formats are refused before anything else (R4 §3.1.0.1.10).
    if (fhir) {
      if (auto refused = RefuseFhirFormat(req, t)) return *refused;
    }
    // The route's own handler, with the parameters the match extracted.
    auto dispatch = [&](const Caller& caller) {
      return route->handler(RouteRequest{service, req, t, params, caller, *auth});
    };
    if (route->is_public) return dispatch(Caller(service, std::nullopt));
    if (auth->disabled) {
      security::Claims anyone;
      anyone.subject = "unsafe-no-security";
      anyone.role = security::Role::kAdmin;
      return dispatch(Caller(service, anyone));
    }
    // Every other request leaves an audit record, whatever its outcome.
    security::AuditEntry entry;
    entry.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    entry.action = std::string(http::to_string(req.method())) + " " + route->path;
    entry.resource = route->resource;
    entry.interaction = security::InteractionLetter(route->interaction);
    entry.from = std::string(req[kPeerHeader]);
    std::string asked_patient;  // the patient named in the path or query, allowed or not
    auto audited = [&](Response r, const Caller* caller) {
      entry.outcome = static_cast<int>(r.status);
      if (caller != nullptr) {
        entry.patients = caller->Touched(asked_patient);
      } else if (!asked_patient.empty()) {
        entry.patients = {asked_patient};
      }
      if (r.status == 503) r.headers.emplace_back("Retry-After", "2");
      service.Audit(std::move(entry));
      return r;
    };
    // Refused before a valid token was shown: recorded, but a flood of them is aggregated.
    auto refused = [&](Response r) {
      entry.outcome = static_cast<int>(r.status);
      if (!asked_patient.empty()) entry.patients = {asked_patient};
      if (AuditLog* log = service.audit_log(); log != nullptr) log->RecordRefused(std::move(entry));
      return r;
    };
    asked_patient = RoutePatient(*route, params, t);
    // Ids are checked before they go anywhere (the audit record, a message, the store): bytes
    // that are not an id are never echoed or recorded (a %FF id once stopped the audit writer).
    // The 400 comes after authentication, so an unauthenticated flood of them is throttled and
    // aggregated like any other.
    const bool bad_id = !asked_patient.empty() && !IsValidId(asked_patient);
    if (bad_id) asked_patient.clear();
    auto refuse_bad_id = [&]() {
      const Error e =
          ValidateId(params.contains("id") ? params["id"] : PatientInQuery(t.query), "patient")
              .error();
      if (fhir) {
        Response r = Json(400, io::OperationOutcome("value", "patient", e.message));
        r.content_type = "application/fhir+json";
        return audited(std::move(r), nullptr);
      }
      return audited(Fail(400, e), nullptr);
    };
    // An address that keeps failing authentication gets 429 instead of 401, and its refusals
    // are aggregated in the audit trail. Valid tokens from the same address (a ward behind one
    // NAT) are not held up by someone else's flood: checking a token costs one HMAC.
    auto unauthenticated = [&](const std::string& why) {
      if (!refused_by_address->Allow(entry.from)) {
        return refused(
            Denied(fhir, 429, "too many requests without a valid token from this address"));
      }
      return refused(Denied(fhir, 401, why));
    };
    // Authentication: a bearer token (the live stream may carry it as ?access_token=, since
    // browsers' EventSource cannot set headers).
    std::string token;
    const auto header = req[http::field::authorization];
    if (header.size() > 7 && (header.starts_with("Bearer ") || header.starts_with("bearer "))) {
      token = std::string(header.substr(7));
    } else if (route->path == "/api/v1/stream") {
      if (auto it = t.query.find("access_token"); it != t.query.end()) token = it->second;
    }
    if (token.empty()) return unauthenticated("a bearer token is required");
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    auto claims = security::VerifyToken(token, auth->key, now_s);
    if (!claims.ok()) return unauthenticated("token " + claims.error().message);
    if (!claims->token_id.empty() && revoked->Revoked(claims->token_id)) {
      return unauthenticated("token revoked");
    }
    entry.who = claims->subject;
    entry.role = std::string(security::RoleName(claims->role));
    if (bad_id) return refuse_bad_id();
    if (!limiter->Allow(claims->token_id.empty() ? claims->subject : claims->token_id)) {
      return audited(Denied(fhir, 429, "rate limit exceeded for this token"), nullptr);
    }
    // The audit trail cannot be stored now (its store refuses): refuse access to patient data
    // rather than give it unrecorded; the refusal's own record is held until the store returns.
    if (AuditLog* log = service.audit_log(); log != nullptr && log->held() > 0) {
      return audited(Fail(503, "unavailable", "audit",
                          "the audit trail cannot be stored now; try again shortly"),
                     nullptr);
    }
    const Caller caller(service, std::move(*claims));
    // Authorization of the route itself.
    std::string patient = asked_patient;
    // Routes whose body names the patient: a caller bound to one patient (device, patient) is
    // asked about that patient here; each item is checked again by the handler.
    if (route->patient_from == PatientFrom::kBody) patient = caller.claims()->patient;
    security::Interaction what = route->interaction;
    // PUT of a patient that does not exist yet creates it — for administrators. Anyone else is
    // answered as for an existing patient they may not change (403), so the answer does not tell
    // whether the id exists (clinicians create with POST).
    if (route->resource == "Patient" && what == security::Interaction::kUpdate &&
        caller.claims()->role == security::Role::kAdmin && !service.Patient(patient)) {
      what = security::Interaction::kCreate;
      patient.clear();
    }
    const security::Decision d = caller.Check(patient, route->resource, what);
    if (!d.allowed) return audited(Denied(fhir, 403, d.reason), &caller);
    // A handler that fails unexpectedly still answers, and the request is still audited.
    Response answer;
    try {
      answer = dispatch(caller);
    } catch (const std::exception&) {
      answer = fhir ? Json(500, io::OperationOutcome("exception", "request", "internal error"))
                    : Fail(500, "internal", "request", "internal error");
    }
    if (answer.event_stream) {
      answer.stream_expires_at_s = caller.claims()->expires_at_s;
      answer.stream_check = StreamCheck(service, *caller.claims(), revoked, t, entry);
    }
    return audited(std::move(answer), &caller);
  };
}

}  // namespace medtwin::server
