// The REST API: routes, query strings, JSON errors. Every error body is
// {"error": {"code": …, "field": …, "message": …}}.
#include <malloc.h>

#include <charconv>
#include <chrono>
#include <sstream>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/io/event.h"
#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/pgx/calls.h"
#include "medtwin/pgx/guidance.h"
#include "medtwin/server/access.h"
#include "medtwin/server/research.h"
#include "medtwin/server/service.h"
#include "medtwin/server/static_files.h"
#include "medtwin/twin/pharmacogenomics.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

Response Json(unsigned status, const json& body) {
  Response r;
  r.status = status;
  r.body = io::DumpJson(body);
  return r;
}

Response Text(const char* content_type, std::string body) {
  Response r;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

// The API's error code: core's name, except where the API has its own older one (and the
// solver's and unimplemented paths, which a client sees as internal).
std::string_view CodeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalidArgument:
      return "invalid";
    case ErrorCode::kIoError:
      return "storage";
    case ErrorCode::kSolverFailure:
    case ErrorCode::kUnimplemented:
    case ErrorCode::kInternal:
      return "internal";
    default:
      return ErrorCodeName(c);
  }
}

Response Fail(unsigned status, const Error& e) {
  return Json(status, {{"error",
                        {{"code", CodeName(e.code)}, {"field", e.field}, {"message", e.message}}}});
}
Response Fail(unsigned status, const char* code, const std::string& field,
              const std::string& message) {
  return Json(status, {{"error", {{"code", code}, {"field", field}, {"message", message}}}});
}
// The one map from an error's meaning to its HTTP status.
unsigned StatusFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kIoError:
    case ErrorCode::kInternal:
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 400;
  }
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  std::multimap<std::string, std::string> all_query;  // repeated parameters (FHIR date)
};

Target Split(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::size_t start = 0;
  while (start < path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) t.segments.push_back(PercentDecode(path.substr(start, end - start)));
    start = end + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    std::size_t s = 0;
    while (s <= qs.size()) {
      const auto amp = std::min(qs.find('&', s), qs.size());
      const auto part = qs.substr(s, amp - s);
      const auto eq = part.find('=');
      if (!part.empty()) {
        const std::string key = PercentDecode(part.substr(0, eq));
        const std::string value =
            eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
        t.query[key] = value;
        t.all_query.emplace(key, value);
      }
      if (amp == qs.size()) break;
      s = amp + 1;
    }
  }
  return t;
}

Result<json> ParseBody(const Request& req) { return io::ParseUntrustedJson(req.body(), "body"); }

// An ingest report: 200 when something was accepted (or nothing was given), 422 when every
// item was rejected.
// Rejections are listed up to kListedRejections and counted by field and reason beyond that, so
// the reply stays small whatever the body held.
Response ReportResponse(const Result<IngestReport>& report) {
  constexpr std::size_t kListedRejections = 100;
  if (!report.ok()) return Fail(StatusFor(report.error()), report.error());
  const bool any = !report->accepted.empty();
  const json& rejected = report->rejected;
  json listed = json::array(), reasons = json::array();
  std::map<std::pair<std::string, std::string>, std::size_t> counts;
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    if (i < kListedRejections) listed.push_back(rejected[i]);
    ++counts[{rejected[i].value("field", ""), rejected[i].value("reason", "")}];
  }
  for (const auto& [key, n] : counts) {
    if (reasons.size() == kListedRejections) break;
    reasons.push_back({{"field", key.first}, {"reason", key.second}, {"count", n}});
  }
  return Json(any || rejected.empty() ? 200 : 422, {{"accepted", report->accepted},
                                                    {"rejected", std::move(listed)},
                                                    {"rejected_count", rejected.size()},
                                                    {"rejected_reasons", std::move(reasons)}});
}

Response Ingest(TwinService& s, const Request& req, const std::string& patient,
                const Caller& caller) {
  std::vector<json> items;
  std::vector<std::string> line_errors;
  if (patient.empty()) {
    // NDJSON: one observation per line, each naming its patient. The line count is checked
    // before any line is parsed: 16 MB of "1\n" would otherwise become 8 million parsed values
    // and as many rejections in the reply.
    if (const std::size_t lines = io::CountNdjsonLines(req.body()); lines > kMaxIngestItems) {
      return Fail(413, "too_many_lines", "body",
                  std::to_string(lines) + " lines: send at most " +
                      std::to_string(kMaxIngestItems) + " observations per request");
    }
    for (auto& line : io::ReadNdjson(req.body())) {
      items.push_back(std::move(line.value));
      std::string error = line.malformed ? line.error : "";
      // Each line names its patient: the caller must be allowed to write there.
      if (error.empty() && items.back().is_object()) {
        auto p = items.back().find("patient");
        if (p != items.back().end() && p->is_string()) {
          const auto d =
              caller.Check(p->get<std::string>(), "Observation", security::Interaction::kCreate);
          if (!d.allowed) error = "forbidden: " + d.reason;
        }
      }
      line_errors.push_back(std::move(error));
    }
    if (items.empty())
      return Fail(400, "invalid", "body", "no observations (NDJSON, one per line)");
  } else {
    auto body = ParseBody(req);
    if (!body.ok()) return Fail(400, body.error());
    items = JsonItems(std::move(*body));
    if (items.empty()) return Fail(400, "invalid", "body", "empty array");
    if (items.size() > kMaxIngestItems) {
      return Fail(413, "too_many_items", "body",
                  std::to_string(items.size()) + " items: send at most " +
                      std::to_string(kMaxIngestItems) + " per request");
    }
    if (!s.Patient(patient))
      return Fail(404, "not_found", "patient", "no patient '" + patient + "'");
  }
  Response reply = ReportResponse(s.Ingest(items, patient, line_errors));
  // A large body's parse leaves freed pages in the allocator: hand them back to the system.
  if (req.body().size() > (4U << 20)) ::malloc_trim(0);
  return reply;
}

Response History(TwinService& s, const std::string& patient, const Target& t) {
  store::ObservationQuery q;
  q.patient = patient;
  if (auto it = t.query.find("code"); it != t.query.end()) q.code = it->second;
  for (const char* key : {"from", "to"}) {
    auto it = t.query.find(key);
    if (it == t.query.end()) continue;
    auto time = ParseRfc3339(it->second);
    if (!time.ok()) return Fail(400, "invalid", key, "'" + it->second + "' is not RFC 3339");
    (std::string(key) == "from" ? q.from : q.to) = *time;
  }
  if (auto it = t.query.find("limit"); it != t.query.end()) {
    std::size_t limit = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || limit < 1 ||
        limit > 100'000) {
      return Fail(400, "invalid", "limit", "an integer 1..100000");
    }
    q.limit = limit;
  }
  // Cursors are opaque to clients (base64url of the store's position): whatever a source or
  // code holds, the header carries only [A-Za-z0-9_-].
  if (auto it = t.query.find("cursor"); it != t.query.end()) {
    auto decoded = security::Base64UrlDecode(it->second);
    if (!decoded.ok() || decoded->empty()) {
      return Fail(400, "invalid", "cursor", "not a cursor this server gave out");
    }
    q.cursor = std::move(*decoded);
  }
  auto page = s.History(q);
  if (!page.ok()) return Fail(StatusFor(page.error()), page.error());
  json arr = json::array();
  for (const auto& o : page->items) arr.push_back(io::ObservationToJson(o));
  Response r = Json(200, arr);
  if (!page->next_cursor.empty()) {
    r.headers.emplace_back("X-Next-Cursor", security::Base64UrlEncode(page->next_cursor));
  }
  return r;
}

// NEWS2 over time from the stored vital signs: one point per instant a vital sign was
// observed in [from, to] (default: the last 24 h), scored as the live twin scores (values up to
// 4 h old count, so the window's first 4 h are read too).
Response News2Series(TwinService& s, const std::string& patient, const Target& t) {
  const auto record = s.Patient(patient);
  if (!record) return Fail(404, "not_found", "patient", "no patient '" + patient + "'");
  Instant to = LimitsNow().now, from{to.us_since_epoch - 24LL * 3600 * 1'000'000};
  for (const char* key : {"from", "to"}) {
    auto it = t.query.find(key);
    if (it == t.query.end()) continue;
    auto time = ParseRfc3339(it->second);
    if (!time.ok()) return Fail(400, "invalid", key, "'" + it->second + "' is not RFC 3339");
    (std::string(key) == "from" ? from : to) = *time;
  }
  if (to < from || to.us_since_epoch - from.us_since_epoch > 7LL * 24 * 3600 * 1'000'000) {
    return Fail(400, "invalid", "from", "a window of at most 7 days ending at 'to'");
  }
  std::vector<record::Observation> vitals;
  for (std::string_view code : twin::kNews2VitalCodes) {
    store::ObservationQuery q;
    q.patient = patient;
    q.code = std::string(code);
    q.from = Instant{from.us_since_epoch - 4LL * 3600 * 1'000'000};
    q.to = to;
    q.limit = 100'000;
    auto page = s.History(q);
    if (!page.ok()) return Fail(StatusFor(page.error()), page.error());
    vitals.insert(vitals.end(), page->items.begin(), page->items.end());
  }
  json out = json::array();
  for (const auto& p : twin::News2History(std::move(vitals), record->spo2_scale)) {
    if (p.time < from) continue;
    json point = twin::News2ToJson(p.score);
    point["time"] = FormatRfc3339(p.time);
    out.push_back(std::move(point));
  }
  return Json(200, out);
}

// The patient's genotype calls and the CPIC guidance they give for every covered drug.
json GenotypeJson(const record::PatientRecord& p) {
  json guidance = json::array();
  if (auto table = pgx::GuidanceTable::Default(); table.ok()) {
    for (const auto& drug : (*table)->Drugs()) {
      if (auto g = twin::GuidanceFor(p, drug)) guidance.push_back(pgx::GuidanceToJson(*g));
    }
  }
  return {{"genotype", io::PatientToJson(p)["genotype"]}, {"guidance", guidance}};
}

Response GetGenotype(TwinService& s, const std::string& patient) {
  const auto p = s.Patient(patient);
  if (!p) return Fail(404, "not_found", "patient", "no patient '" + patient + "'");
  return Json(200, GenotypeJson(*p));
}

// PUT …/genotype: a VCF (called here, one sample or ?sample=NAME), CALLS.json from `medtwin pgx
// call` (one sample or ?sample=), or {"genes": {GENE: call}}. Called genes replace the
// record's genotype; genes not called are listed, never guessed.
Response PutGenotype(TwinService& s, const Request& req, const std::string& patient,
                     const Target& t) {
  if (!s.Patient(patient)) return Fail(404, "not_found", "patient", "no patient '" + patient + "'");
  auto data = pgx::PgxData::Default();
  if (!data.ok()) return Fail(503, data.error());
  const std::string wanted = t.query.contains("sample") ? t.query.at("sample") : "";
  std::vector<pgx::SampleCalls> samples;
  const std::string& body = req.body();
  const auto type = req[http::field::content_type];
  if (type.find("vcf") != std::string_view::npos || body.starts_with("##fileformat=VCF")) {
    std::istringstream in(body);
    // One sample is called: the named one, or the file's only one.
    auto called = pgx::CallVcf(in, **data, "body", {}, {.sample = wanted, .max_samples = 1});
    if (!called.ok()) return Fail(400, called.error());
    samples = std::move(*called);
  } else {
    auto document = io::ParseUntrustedJson(body, "body");
    if (!document.ok()) return Fail(400, document.error());
    json j = std::move(*document);
    if (!j.is_object()) {
      return Fail(400, "invalid", "body", "a VCF, CALLS.json or {\"genes\": {…}}");
    }
    if (j.contains("genes")) j = json{{"samples", {{{"sample", "body"}, {"genes", j["genes"]}}}}};
    auto parsed = pgx::CallsFromJson(j);
    if (!parsed.ok()) return Fail(400, parsed.error());
    samples = std::move(*parsed);
  }
  const pgx::SampleCalls* chosen = nullptr;
  for (const auto& sc : samples) {
    if (wanted.empty() ? samples.size() == 1 : sc.sample == wanted) chosen = &sc;
  }
  if (chosen == nullptr) {
    return Fail(400, "invalid", "sample",
                wanted.empty() ? std::to_string(samples.size()) + " samples: name one with ?sample="
                               : "no sample '" + wanted.substr(0, 40) + "'");
  }
  json calls = json::array(), not_called = json::object();
  for (const auto& g : chosen->genes) {
    if (!g.called) {
      not_called[g.gene] = g.reason.empty() ? "not called" : g.reason;
      continue;
    }
    std::string diplotype;
    for (std::size_t i = 0; i < g.diplotypes.size(); ++i) {
      diplotype += (i ? " or " : "") + g.diplotypes[i].Name();
    }
    calls.push_back({{"gene", g.gene},
                     {"diplotype", diplotype.substr(0, 400)},
                     {"phenotype", g.phenotype},
                     {"activity_score", g.activity_score ? json(*g.activity_score) : json()}});
  }
  auto updated = s.UpdatePatient(patient, json{{"genotype", calls}});
  if (!updated.ok()) return Fail(StatusFor(updated.error()), updated.error());
  json out = GenotypeJson(*updated);
  out["not_called"] = not_called;
  return Json(200, out);
}

constexpr const char* kIndexHtml = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medtwin</title></head>
<body><h1>medtwin</h1><p>The twin server is running. API under <code>/api/v1</code>:
<code>/api/v1/patients</code>, <code>/api/v1/alerts</code>, <code>/api/v1/stream</code> (live
events), <code>/healthz</code>, <code>/metrics</code>. See docs/api.md.</p></body></html>
)html";

// What a live stream carries: the one patient asked for, everything (an administrator without
// a patient context), or the patients the caller may see now (a patient added later, or put in
// the caller's care, joins at the stream's next check).
void SelectStream(TwinService& service, const Caller& caller,
                  const std::map<std::string, std::string>& query, bool* all,
                  std::vector<std::string>* topics) {
  using security::Interaction;
  topics->clear();
  *all = false;
  if (auto it = query.find("patient"); it != query.end()) {
    if (caller.May(it->second, "Observation", Interaction::kSearch)) *topics = {it->second};
  } else if (caller.claims() && caller.claims()->role == security::Role::kAdmin &&
             caller.May("", "Observation", Interaction::kSearch) &&
             caller.claims()->patient.empty()) {
    *all = true;
  } else {
    for (const auto& p : service.Patients()) {
      if (caller.May(p.id, "Observation", Interaction::kSearch)) topics->push_back(p.id);
    }
  }
}

// A request that has passed authentication and the route's authorization.
Response Dispatch(TwinService& service, const Request& req, const Target& t, const Caller& caller,
                  const AuthOptions& auth) {
  {
    const auto& seg = t.segments;
    const auto method = req.method();
    using http::verb;
    using security::Interaction;
    if (seg.empty()) {
      if (method != verb::get) return Fail(405, "method", "method", "GET only");
      Response index = ServeStatic("");
      return index.status == 200 ? index : Text("text/html; charset=utf-8", kIndexHtml);
    }
    if (seg[0] == "static") {
      std::string rest;
      for (std::size_t i = 1; i < seg.size(); ++i) rest += (i > 1 ? "/" : "") + seg[i];
      return ServeStatic(rest);
    }
    if (seg.size() == 1 && seg[0] == "healthz") {
      return Json(200, {{"status", "ok"},
                        {"store", std::string(service.store().Kind())},
                        {"twins", service.engine().TwinCount()}});
    }
    if (seg.size() == 1 && seg[0] == "readyz") {
      // Ready only when a write can be committed now and the audit trail keeps up: a load
      // balancer sends no traffic to a server whose store is down or whose disk is full.
      json out = {{"store", std::string(service.store().Kind())}};
      bool ready = true;
      if (Status st = service.store().CheckWritable(WallClockNow().us_since_epoch); !st.ok()) {
        ready = false;
        out["store_error"] = st.error().message;
      }
      if (AuditLog* log = service.audit_log(); log != nullptr) {
        out["audit_records_held"] = log->held();
        if (log->held() > 0) ready = false;
      }
      out["status"] = ready ? "ready" : "not ready";
      Response r = Json(ready ? 200 : 503, out);
      if (!ready) r.headers.emplace_back("Retry-After", "2");
      return r;
    }
    if (seg.size() == 1 && seg[0] == "metrics") {
      return Text("text/plain; version=0.0.4", service.MetricsText());
    }
    if (seg.size() >= 2 && seg[0] == "fhir" && seg[1] == "r4") {
      return HandleFhir(service, req, seg, t.query, t.all_query, caller);
    }
    if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1") {
      return Fail(404, "not_found", "path", "no such resource");
    }
    const std::string& resource = seg[2];
    if (resource == "patients") {
      if (seg.size() == 3) {
        if (method == verb::get) {
          json arr = json::array();
          for (const auto& p : service.Patients()) {
            if (caller.May(p.id, "Patient", Interaction::kSearch)) {
              arr.push_back(io::PatientToJson(p));
            }
          }
          return Json(200, arr);
        }
        if (method == verb::post) {
          auto body = ParseBody(req);
          if (!body.ok()) return Fail(400, body.error());
          JoinCareTeam(*body, caller);
          auto p = service.CreatePatient(*body);
          if (!p.ok()) return Fail(StatusFor(p.error()), p.error());
          caller.Touch(p->id);
          Response r = Json(201, io::PatientToJson(*p));
          r.headers.emplace_back("Location", "/api/v1/patients/" + p->id);
          return r;
        }
        return Fail(405, "method", "method", "GET or POST");
      }
      const std::string& id = seg[3];
      if (seg.size() == 4) {
        if (method == verb::get) {
          auto p = service.Patient(id);
          if (!p) return Fail(404, "not_found", "patient", "no patient '" + id + "'");
          return Json(200, io::PatientToJson(*p));
        }
        if (method == verb::put || method == verb::patch) {
          auto body = ParseBody(req);
          if (!body.ok()) return Fail(400, body.error());
          auto p = service.UpdatePatient(id, *body, caller.Subject());
          if (!p.ok()) return Fail(StatusFor(p.error()), p.error());
          return Json(200, io::PatientToJson(*p));
        }
        return Fail(405, "method", "method", "GET, PUT or PATCH");
      }
      if (seg.size() == 5 && seg[4] == "observations") {
        if (method == verb::post) return Ingest(service, req, id, caller);
        if (method == verb::get) return History(service, id, t);
        return Fail(405, "method", "method", "GET or POST");
      }
      if (seg.size() == 5 && seg[4] == "events") {
        if (method == verb::post) {
          auto body = ParseBody(req);
          if (!body.ok()) return Fail(400, body.error());
          if (!service.Patient(id))
            return Fail(404, "not_found", "patient", "no patient '" + id + "'");
          auto items = JsonItems(std::move(*body));
          if (items.size() > kMaxIngestItems) {
            return Fail(413, "too_many_items", "body",
                        "send at most " + std::to_string(kMaxIngestItems) + " events per request");
          }
          return ReportResponse(service.IngestEvents(items, id));
        }
        if (method == verb::get) {
          if (!service.Patient(id))
            return Fail(404, "not_found", "patient", "no patient '" + id + "'");
          std::optional<Instant> from, to;
          for (const char* key : {"from", "to"}) {
            auto it = t.query.find(key);
            if (it == t.query.end()) continue;
            auto time = ParseRfc3339(it->second);
            if (!time.ok())
              return Fail(400, "invalid", key, "'" + it->second + "' is not RFC 3339");
            (std::string(key) == "from" ? from : to) = *time;
          }
          auto events = service.store().QueryEvents(id, from, to, 100'000);
          if (!events.ok()) return Fail(StatusFor(events.error()), events.error());
          json arr = json::array();
          for (const auto& e : *events) arr.push_back(io::EventToJson(e));
          return Json(200, arr);
        }
        return Fail(405, "method", "method", "GET or POST");
      }
      if (seg.size() == 6 && seg[4] == "recommendations" && seg[5] == "accept" &&
          method == verb::post) {
        json body = json::object();
        if (!req.body().empty()) {
          auto parsed = ParseBody(req);
          if (!parsed.ok()) return Fail(400, parsed.error());
          body = std::move(*parsed);
        }
        if (!body.is_object()) return Fail(400, "invalid", "body", "an object (or no body)");
        // The order records who signed in as its author, whatever the body says.
        body["by"] = caller.Subject();
        auto order = service.AcceptRecommendation(id, body);
        if (!order.ok()) {
          // Nothing to accept yet is a conflict with the twin's state (kFailedPrecondition).
          return Fail(StatusFor(order.error()), order.error());
        }
        return Json(201, *order);
      }
      if (seg.size() >= 5 && seg[4] == "consent") {
        auto p = service.Patient(id);
        if (!p) return Fail(404, "not_found", "patient", "no patient '" + id + "'");
        json consent = io::PatientToJson(*p)["consent"];
        if (seg.size() == 5 && method == verb::get) return Json(200, consent);
        if (seg.size() == 6 && seg[5] == "history" && method == verb::get) {
          // Every earlier consent, oldest first, with who changed it and when.
          return Json(200, io::PatientToJson(*p)["consent_history"]);
        }
        const std::string now = FormatRfc3339(LimitsNow().now);
        if (seg.size() == 5 && method == verb::put) {
          auto body = ParseBody(req);
          if (!body.ok()) return Fail(400, body.error());
          if (!body->is_object()) return Fail(400, "invalid", "body", "a consent object");
          for (auto& [k, v] : body->items()) consent[k] = v;
          if (!body->contains("recorded_at")) consent["recorded_at"] = now;
          if (!body->contains("withdrawn_at")) consent["withdrawn_at"] = nullptr;
        } else if (seg.size() == 6 && seg[5] == "withdraw" && method == verb::post) {
          json body = json::object();
          if (!req.body().empty()) {
            auto parsed = ParseBody(req);
            if (!parsed.ok()) return Fail(400, parsed.error());
            body = *parsed;
          }
          consent["withdrawn_at"] =
              body.is_object() && body.contains("date") ? body["date"] : json(now);
        } else {
          return Fail(404, "not_found", "path", "no such resource");
        }
        auto updated = service.UpdatePatient(id, json{{"consent", consent}}, caller.Subject());
        if (!updated.ok()) {
          Error e = updated.error();
          if (!e.field.starts_with("consent")) e.field = "consent." + e.field;
          return Fail(StatusFor(e), e);
        }
        return Json(200, io::PatientToJson(*updated)["consent"]);
      }
      if (seg.size() == 5 && seg[4] == "whatif" && method == verb::post) {
        auto body = ParseBody(req);
        if (!body.ok()) return Fail(400, body.error());
        auto r = service.engine().WhatIf(id, *body);
        if (!r.ok()) return Fail(StatusFor(r.error()), r.error());
        return Json(200, *r);
      }
      if (seg.size() == 5 && seg[4] == "genotype") {
        return method == verb::put ? PutGenotype(service, req, id, t) : GetGenotype(service, id);
      }
      if (seg.size() == 5 && seg[4] == "news2" && method == verb::get) {
        return News2Series(service, id, t);
      }
      if (seg.size() == 5 && seg[4] == "twin" && method == verb::get) {
        auto j = service.engine().TwinJson(id);
        if (!j) return Fail(404, "not_found", "patient", "no patient '" + id + "'");
        // The route needs Observation read; the record it embeds (name, birth date, genotype,
        // care team, consent) needs its own scopes, or it is left out.
        json& record = (*j)["patient"];
        if (!caller.May(id, "Patient", Interaction::kRead)) {
          record = {{"id", id}, {"omitted", "the token's scopes do not cover Patient"}};
        } else if (!caller.May(id, "Consent", Interaction::kRead)) {
          record.erase("consent");
          record.erase("consent_history");
        }
        return Json(200, *j);
      }
      return Fail(404, "not_found", "path", "no such resource");
    }
    if (resource == "observations" && seg.size() == 3) {
      if (method != verb::post) return Fail(405, "method", "method", "POST (NDJSON)");
      return Ingest(service, req, "", caller);
    }
    if (resource == "alerts") {
      if (seg.size() == 3 && method == verb::get) {
        twin::AlertFilter f;
        if (auto it = t.query.find("status"); it != t.query.end()) f.status = it->second;
        if (auto it = t.query.find("severity"); it != t.query.end()) f.severity = it->second;
        if (auto it = t.query.find("patient"); it != t.query.end()) f.patient = it->second;
        if (!f.status.empty() && f.status != "open" && f.status != "acknowledged" &&
            f.status != "resolved") {
          return Fail(400, "invalid", "status", "open, acknowledged or resolved");
        }
        if (!f.severity.empty() && f.severity != "low" && f.severity != "low-medium" &&
            f.severity != "medium" && f.severity != "high" && f.severity != "critical") {
          return Fail(400, "invalid", "severity", "low, low-medium, medium, high or critical");
        }
        if (!f.patient.empty() && !IsValidId(f.patient)) {
          return Fail(400, ValidateId(f.patient, "patient").error());
        }
        json visible = json::array();
        for (auto& a : service.engine().Alerts(f)) {
          if (caller.May(a["patient"].get<std::string>(), "DetectedIssue", Interaction::kSearch)) {
            visible.push_back(std::move(a));
          }
        }
        return Json(200, visible);
      }
      if (seg.size() == 5 && (seg[4] == "ack" || seg[4] == "acknowledge") && method == verb::post) {
        std::uint64_t alert_id = 0;
        auto [p, ec] = std::from_chars(seg[3].data(), seg[3].data() + seg[3].size(), alert_id);
        if (ec != std::errc() || p != seg[3].data() + seg[3].size()) {
          return Fail(400, "invalid", "id", "alert ids are numbers");
        }
        // The alert's patient decides who may acknowledge it.
        std::string patient;
        for (const auto& a : service.engine().Alerts({})) {
          if (a["id"] == seg[3]) patient = a["patient"];
        }
        if (patient.empty()) return Fail(404, "not_found", "id", "no alert " + seg[3]);
        if (auto d = caller.Check(patient, "DetectedIssue", Interaction::kUpdate); !d.allowed) {
          return Fail(403, "forbidden", "authorization", d.reason);
        }
        // Who acknowledged is who signed in (the token's subject), never what a body says.
        auto a = service.Acknowledge(alert_id, caller.Subject());
        if (!a.ok()) return Fail(404, a.error());
        return Json(200, *a);
      }
      return Fail(404, "not_found", "path", "no such resource");
    }
    if (resource == "research" && seg.size() == 4 && seg[3] == "cohort" && method == verb::get) {
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
    if (resource == "trials") {
      if (seg.size() == 3 && method == verb::get) return Json(200, service.trials().List());
      if (seg.size() == 3 && method == verb::post) {
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
      if (seg.size() == 4 && method == verb::get) {
        auto job = service.trials().Get(seg[3]);
        if (!job) return Fail(404, "not_found", "id", "no trial '" + seg[3].substr(0, 40) + "'");
        return Json(200, *job);
      }
      return Fail(404, "not_found", "path", "no such resource");
    }
    if (resource == "audit" && method == verb::get) {
      AuditLog* log = service.audit_log();
      if (log == nullptr) return Fail(404, "not_found", "audit", "this server keeps no audit log");
      if (seg.size() == 4 && seg[3] == "verify") {
        log->Flush();
        json report = VerifyStoredLedger(service.store(), log->public_key());
        report["public_key"] = security::ToHex(log->public_key());
        return Json(200, report);
      }
      if (seg.size() == 4 && seg[3] == "head") {
        // The newest signed tree head: what a witness keeps.
        auto head = log->NewestHead();
        if (!head.ok())
          return Fail(head.error().code == ErrorCode::kNotFound ? 404 : 503, head.error());
        json out = security::TreeHeadToJson(*head);
        out["public_key"] = security::ToHex(log->public_key());
        return Json(200, out);
      }
      if (seg.size() == 4 && seg[3] == "consistency") {
        // RFC 6962 §2.1.2: the proof that the tree at `first` records is a prefix of the tree
        // at `second`, with both roots.
        std::uint64_t sizes[2] = {0, 0};
        const char* names[2] = {"first", "second"};
        for (int k = 0; k < 2; ++k) {
          auto it = t.query.find(names[k]);
          const std::string v = it == t.query.end() ? "" : it->second;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), sizes[k]);
          if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
            return Fail(400, "invalid", names[k], "a tree size (records), e.g. from a tree head");
          }
        }
        log->Flush();
        auto ledger = ReadStoredLedger(service.store());
        if (!ledger.ok()) return Fail(503, ledger.error());
        if (sizes[0] > sizes[1] || sizes[1] > ledger->records.size()) {
          return Fail(400, "invalid", "second",
                      "0 < first <= second <= " + std::to_string(ledger->records.size()));
        }
        std::vector<security::Hash> leaves;
        leaves.reserve(sizes[1]);
        for (std::uint64_t i = 0; i < sizes[1]; ++i) {
          leaves.push_back(security::LeafHash(ledger->records[i].text));
        }
        json proof = json::array();
        for (const auto& h : security::ConsistencyProof(leaves, sizes[0], sizes[1])) {
          proof.push_back(security::ToHex(h));
        }
        const std::vector<security::Hash> first(leaves.begin(),
                                                leaves.begin() + static_cast<long>(sizes[0]));
        return Json(200, {{"first", sizes[0]},
                          {"second", sizes[1]},
                          {"first_root", security::ToHex(security::MerkleRoot(first))},
                          {"second_root", security::ToHex(security::MerkleRoot(leaves))},
                          {"proof", proof}});
      }
      std::size_t limit = 100;
      if (auto it = t.query.find("limit"); it != t.query.end()) {
        auto [p, ec] =
            std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
        if (ec != std::errc() || limit < 1 || limit > 10'000) {
          return Fail(400, "invalid", "limit", "an integer 1..10000");
        }
      }
      log->Flush();
      auto rows = service.store().RecentAudit(limit);
      if (!rows.ok()) return Fail(503, rows.error());
      json out = json::array();
      for (const auto& row : *rows) {
        auto rec = security::ParseAuditRecord(row.text);
        out.push_back(rec.ok() ? *rec : json{{"seq", row.seq}, {"invalid", true}});
      }
      return Json(200, out);
    }
    if (resource == "stream" && seg.size() == 3 && method == verb::get) {
      Response r;
      r.event_stream = true;
      SelectStream(service, caller, t.query, &r.stream_all, &r.stream_topics);
      return r;
    }
    return Fail(404, "not_found", "path", "no such resource");
  }
}

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
    const Target t = Split(std::string_view(req.target().data(), req.target().size()));
    const bool fhir = t.segments.size() >= 2 && t.segments[0] == "fhir" && t.segments[1] == "r4";
    std::map<std::string, std::string> params;
    bool path_known = false;
    const RouteSpec* route = MatchRoute(req.method(), t.segments, &params, &path_known);
    if (route == nullptr) {
      if (path_known) return Fail(405, "method", "method", "not allowed on this resource");
      if (fhir) {
        Response r = Json(404, io::OperationOutcome("not-found", "path", "no such FHIR endpoint"));
        r.content_type = "application/fhir+json";
        return r;
      }
      return Fail(404, "not_found", "path", "no such resource");
    }
    if (route->is_public) return Dispatch(service, req, t, Caller(service, std::nullopt), *auth);
    if (auth->disabled) {
      security::Claims anyone;
      anyone.subject = "unsafe-no-security";
      anyone.role = security::Role::kAdmin;
      return Dispatch(service, req, t, Caller(service, anyone), *auth);
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
    if (route->patient_from == PatientFrom::kPath) asked_patient = params["id"];
    if (route->patient_from == PatientFrom::kQuery) asked_patient = PatientInQuery(t.query);
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
      answer = Dispatch(service, req, t, caller, *auth);
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
