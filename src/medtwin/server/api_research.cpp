// Research and in-silico trials: the de-identified research cohort (k-anonymous, consenting
// patients only), and trial jobs (list, submit, read).
#include "medtwin/server/handlers.h"

#include <charconv>

#include "medtwin/core/time.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/research.h"

namespace medtwin::server {

using nlohmann::json;

Response GetResearchCohort(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const Target& t = rq.target;
  const AuthOptions& auth = rq.auth;
  security::DeidentifyOptions options;
  options.as_of = LimitsNow().now;
  options.k = std::max(options.k, auth.research_min_k);
  if (auto it = t.query.find("k"); it != t.query.end()) {
    auto [p, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), options.k);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || options.k > 100) {
      return Fail(400, "invalid", "k", "an integer up to 100");
    }
    // The server's minimum (set by its operator), never less.
    if (options.k < auth.research_min_k) {
      return Fail(400, "invalid", "k",
                  "at least " + std::to_string(auth.research_min_k) + " on this server");
    }
  }
  // Unlinkable exports, unless an administrator names a study (a stable study key).
  std::string study;
  if (auto it = t.query.find("study"); it != t.query.end()) {
    if (!caller.claims() || caller.claims()->role != security::Role::kAdmin) {
      return Fail(403, "forbidden", "study",
                  "a linkable study key is for administrators; exports are unlinkable");
    }
    study = it->second;
  }
  auto salt = ExportSalt(study);
  if (!salt.ok()) return Fail(400, salt.error());
  options.salt = *salt;
  auto cohort = ResearchCohort(service.store(), auth.key, options, service.data_keys());
  if (!cohort.ok()) return Fail(503, cohort.error());
  const auto& c = cohort->cohort;
  return Json(200, {{"k", c.k},
                    {"linkable", !study.empty()},
                    {"age", c.age_generalization},
                    {"patients_in_store", cohort->patients_in_store},
                    {"consenting", cohort->consenting},
                    {"suppressed", c.suppressed},
                    {"patients", c.patients},
                    {"observations", c.observations}});
}

Response ListTrials(const RouteRequest& rq) { return Json(200, rq.service.trials().List()); }

Response PostTrial(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Request& req = rq.req;
  const Caller& caller = rq.caller;
  auto body = ParseBody(req);
  if (!body.ok()) return Fail(400, body.error());
  auto job = service.trials().Submit(*body, caller.Subject());
  if (!job.ok()) {
    return Fail(StatusFor(job.error()), job.error());
  }
  Response r = Json(202, *job);
  r.headers.emplace_back("Location", "/api/v1/trials/" + (*job)["id"].get<std::string>());
  return r;
}

Response GetTrial(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto job = rq.service.trials().Get(id);
  if (!job) return Fail(404, "not_found", "id", "no trial '" + id.substr(0, 40) + "'");
  return Json(200, *job);
}

}  // namespace medtwin::server
