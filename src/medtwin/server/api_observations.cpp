// Observations and events: ingest (one patient's JSON, or NDJSON across patients), history
// with cursors, a patient's events, and NEWS2 over time from the stored vital signs.
#include "medtwin/server/handlers.h"

#include <malloc.h>

#include <charconv>

#include "medtwin/core/time.h"
#include "medtwin/io/advice_json.h"
#include "medtwin/io/event.h"
#include "medtwin/io/json_input.h"
#include "medtwin/security/token.h"
#include "medtwin/server/api_common.h"
#include "medtwin/twin/kinds/ward.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// Observations for one patient (a JSON object or array), or NDJSON naming each line's patient.
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
    if (!s.Patient(patient)) return NoPatient(patient);
  }
  Response reply = ReportResponse(s.Ingest(items, patient, line_errors));
  // A large body's parse leaves freed pages in the allocator: hand them back to the system.
  if (req.body().size() > (4U << 20)) ::malloc_trim(0);
  return reply;
}

}  // namespace

Response PostPatientObservations(const RouteRequest& rq) {
  return Ingest(rq.service, rq.req, rq.param("id"), rq.caller);
}

Response PostObservations(const RouteRequest& rq) {
  return Ingest(rq.service, rq.req, "", rq.caller);
}

Response GetPatientObservations(const RouteRequest& rq) {
  TwinService& s = rq.service;
  const std::string& patient = rq.param("id");
  const Target& t = rq.target;
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

Response PostPatientEvents(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  if (!rq.service.Patient(id)) return NoPatient(id);
  auto items = JsonItems(std::move(*body));
  if (items.size() > kMaxIngestItems) {
    return Fail(413, "too_many_items", "body",
                "send at most " + std::to_string(kMaxIngestItems) + " events per request");
  }
  return ReportResponse(rq.service.IngestEvents(items, id));
}

Response GetPatientEvents(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  if (!rq.service.Patient(id)) return NoPatient(id);
  std::optional<Instant> from, to;
  for (const char* key : {"from", "to"}) {
    auto it = rq.query().find(key);
    if (it == rq.query().end()) continue;
    auto time = ParseRfc3339(it->second);
    if (!time.ok()) return Fail(400, "invalid", key, "'" + it->second + "' is not RFC 3339");
    (std::string(key) == "from" ? from : to) = *time;
  }
  auto events = rq.service.store().QueryEvents(id, from, to, 100'000);
  if (!events.ok()) return FailFor(events.error());
  json arr = json::array();
  for (const auto& e : *events) arr.push_back(io::EventToJson(e));
  return Json(200, arr);
}

// NEWS2 over time from the stored vital signs: one point per instant a vital sign was
// observed in [from, to] (default: the last 24 h), scored as the live twin scores (values up to
// 4 h old count, so the window's first 4 h are read too).
Response GetNews2Series(const RouteRequest& rq) {
  TwinService& s = rq.service;
  const std::string& patient = rq.param("id");
  const Target& t = rq.target;
  const auto record = s.Patient(patient);
  if (!record) return NoPatient(patient);
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
    json point = io::News2ToJson(p.score);
    point["time"] = FormatRfc3339(p.time);
    out.push_back(std::move(point));
  }
  return Json(200, out);
}

}  // namespace medtwin::server
