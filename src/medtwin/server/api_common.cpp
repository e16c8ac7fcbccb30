#include "medtwin/server/api_common.h"

#include "medtwin/core/format.h"
#include "medtwin/core/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>

#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/server/access.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

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

}  // namespace

Target SplitTarget(std::string_view target) {
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

unsigned StatusFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kIoError:
    case ErrorCode::kInternal:
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 400;
  }
}

Result<json> ParseBody(const Request& req) { return io::ParseUntrustedJson(req.body(), "body"); }

Result<json> ParseOptionalBody(const Request& req) {
  if (req.body().empty()) return json::object();
  return ParseBody(req);
}

Response NoPatient(const std::string& id) {
  return Fail(404, "not_found", "patient", "no patient '" + id + "'");
}

Response ReportResponse(const Result<IngestReport>& report) {
  constexpr std::size_t kListedRejections = 100;
  if (!report.ok()) return FailFor(report.error());
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

Response Fhir(unsigned status, const json& body) {
  Response r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = io::DumpJson(body);
  return r;
}

Response Outcome(unsigned status, const std::string& type, const std::string& where,
                 const std::string& why) {
  return Fhir(status, io::OperationOutcome(type, where, why));
}

namespace {

// A media type (or _format value) that is JSON: json, application/json, application/fhir+json,
// with parameters (charset, fhirVersion) allowed.
bool IsJsonType(std::string_view type) {
  const std::size_t semi = type.find(';');
  std::string t = ToLowerAscii(type.substr(0, semi));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  return t == "json" || t == "application/json" || t == "application/fhir+json";
}

// An Accept header JSON can answer: any of its media ranges is JSON or a wildcard.
bool AcceptsJson(std::string_view accept) {
  std::size_t start = 0;
  while (start <= accept.size()) {
    const std::size_t comma = std::min(accept.find(',', start), accept.size());
    std::string_view range = accept.substr(start, comma - start);
    const std::size_t semi = range.find(';');
    std::string r = ToLowerAscii(range.substr(0, semi));
    r.erase(0, r.find_first_not_of(' '));
    r.erase(r.find_last_not_of(' ') + 1);
    if (r.empty() || r == "*/*" || r == "application/*" || IsJsonType(r)) return true;
    start = comma + 1;
  }
  return false;
}

Response FhirRefusal(unsigned status, const std::string& where, const std::string& why) {
  return Outcome(status, "not-supported", where, why);
}

}  // namespace

std::optional<Response> RefuseFhirFormat(const Request& req, const Target& target) {
  if (auto f = target.query.find("_format"); f != target.query.end() && !IsJsonType(f->second)) {
    return FhirRefusal(406, "_format",
                       "'" + f->second.substr(0, 40) + "': this server answers FHIR in JSON only");
  }
  if (auto a = req.find(http::field::accept); a != req.end()) {
    const std::string_view accept(a->value().data(), a->value().size());
    if (!AcceptsJson(accept)) {
      return FhirRefusal(406, "Accept",
                         "this server answers FHIR in JSON only "
                         "(application/fhir+json)");
    }
  }
  if (!req.body().empty()) {
    if (auto c = req.find(http::field::content_type); c != req.end()) {
      const std::string_view type(c->value().data(), c->value().size());
      if (!IsJsonType(type)) {
        return FhirRefusal(
            415, "Content-Type",
            "'" + std::string(type.substr(0, 60)) + "': send FHIR as application/fhir+json");
      }
    }
  }
  return std::nullopt;
}

namespace {

// host[:port] as RFC 3986 allows it in an authority: a name or IPv4 address of letters,
// digits, '-' and '.', or an IPv6 literal in brackets; then an optional port.
bool PlainAuthority(std::string_view a) {
  if (a.empty() || a.size() > 255) return false;
  std::size_t at = 0;
  if (a.front() == '[') {
    const std::size_t close = a.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : a.substr(1, close - 1)) {
      if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') return false;
    }
    at = close + 1;
  } else {
    while (at < a.size() &&
           (std::isalnum(static_cast<unsigned char>(a[at])) != 0 || a[at] == '-' || a[at] == '.')) {
      ++at;
    }
    if (at == 0) return false;
  }
  if (at == a.size()) return true;
  if (a[at] != ':' || at + 1 == a.size() || a.size() - at - 1 > 5) return false;
  const auto port = ParseUint64(a.substr(at + 1));
  return port && *port <= 65535;
}

}  // namespace

Result<std::string> PublicBaseUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return InvalidArgument("--public-url", "must start with https:// or http://");
  }
  const std::size_t slash = rest.find('/');
  if (!PlainAuthority(rest.substr(0, slash))) {
    return InvalidArgument("--public-url", "host[:port] after the scheme (no user, no spaces)");
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("--public-url", "no query or fragment");
  }
  std::string out(url);
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::string FhirBase(const RouteRequest& rq) {
  if (!rq.auth.public_url.empty()) return rq.auth.public_url + "/fhir/r4";
  // The Host a client sent goes into every link the answer holds: only a plain host[:port]
  // (no path, userinfo or markup a forged Host could plant in a client's next request).
  auto host = rq.req.find(http::field::host);
  std::string authority = "localhost";
  if (host != rq.req.end()) {
    const std::string_view value(host->value().data(), host->value().size());
    if (PlainAuthority(value)) authority = std::string(value);
  }
  return std::string(rq.auth.https ? "https://" : "http://") + authority + "/fhir/r4";
}

json Searchset(const json& resources, const RouteRequest* rq) {
  json b = {{"resourceType", "Bundle"},
            {"type", "searchset"},
            {"total", resources.size()},
            {"entry", json::array()}};
  const std::string base = rq != nullptr ? FhirBase(*rq) : "";
  for (const auto& r : resources) {
    json entry = {{"resource", r}};
    if (rq != nullptr && r.contains("resourceType") && r.contains("id")) {
      entry["fullUrl"] = base + "/" + StringMember(r, "resourceType") + "/" + StringMember(r, "id");
    }
    entry["search"] = {{"mode", "match"}};
    b["entry"].push_back(std::move(entry));
  }
  if (b["entry"].empty()) b.erase("entry");  // FHIR JSON has no empty arrays
  if (rq != nullptr) {
    // The target as received, after the base (".../fhir/r4/Patient?gender=female").
    const std::string target(rq->req.target());
    const std::size_t at = target.find("/fhir/r4");
    b["link"] = {{{"relation", "self"},
                  {"url", base + (at == std::string::npos ? target : target.substr(at + 8))}}};
  }
  return b;
}

std::uint32_t IdHash(std::string_view text) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

namespace {

std::string ReadingId(const char* prefix, const record::Observation& o, std::string_view code) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s.%08x.%.*s.%016llx.%08x", prefix, IdHash(o.patient),
                static_cast<int>(code.size()), code.data(),
                static_cast<unsigned long long>(o.time.us_since_epoch), IdHash(o.source));
  return buf;
}

std::optional<std::uint64_t> Hex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace

std::string ObservationId(const record::Observation& o) { return ReadingId("o", o, o.code); }

std::string PanelId(const record::Observation& systolic) {
  return ReadingId("bp", systolic, record::loinc::kBloodPressurePanel);
}

std::optional<ObservationKey> ParseObservationId(std::string_view id) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 6) {
    const std::size_t dot = id.find('.', start);
    parts.push_back(id.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 5 || (parts[0] != "o" && parts[0] != "bp")) return std::nullopt;
  auto patient = Hex(parts[1], 8);
  auto time = Hex(parts[3], 16);
  auto source = Hex(parts[4], 8);
  if (!patient || !time || !source || parts[2].empty() || parts[2].size() > 16) return std::nullopt;
  ObservationKey k;
  k.panel = parts[0] == "bp";
  k.patient_hash = static_cast<std::uint32_t>(*patient);
  k.code = std::string(parts[2]);
  k.time = Instant{static_cast<std::int64_t>(*time)};
  k.source_hash = static_cast<std::uint32_t>(*source);
  if (k.panel != (k.code == record::loinc::kBloodPressurePanel)) return std::nullopt;
  return k;
}

std::vector<std::vector<const record::Observation*>> Measurements(
    const std::vector<record::Observation>& readings, bool panels) {
  using At = std::pair<std::int64_t, std::string>;  // time, source
  std::map<At, const record::Observation*> systolic, diastolic;
  if (panels) {
    for (const auto& o : readings) {
      if (o.code == record::loinc::kSystolicBp) systolic[{o.time.us_since_epoch, o.source}] = &o;
      if (o.code == record::loinc::kDiastolicBp) diastolic[{o.time.us_since_epoch, o.source}] = &o;
    }
  }
  std::vector<std::vector<const record::Observation*>> out;
  for (const auto& o : readings) {
    const At at{o.time.us_since_epoch, o.source};
    const bool paired = systolic.count(at) > 0 && diastolic.count(at) > 0;
    if (paired && o.code == record::loinc::kDiastolicBp) continue;  // with its systolic
    out.push_back({&o});
    if (paired && o.code == record::loinc::kSystolicBp) out.back().push_back(diastolic[at]);
  }
  return out;
}

namespace {

// The id of one measurement (a group of Measurements): a panel's, or its one reading's.
std::string GroupId(const std::vector<const record::Observation*>& group) {
  return group.size() == 2 ? PanelId(*group[0]) : ObservationId(*group[0]);
}

}  // namespace

std::string MeasurementId(const std::vector<record::Observation>& readings) {
  return GroupId(Measurements(readings, true).front());
}

std::pair<std::string, json> FhirObservationOf(const std::vector<record::Observation>& readings) {
  const auto groups = Measurements(readings, true);
  const auto& first = groups.front();
  std::string id = GroupId(first);
  json resource = first.size() == 2 ? io::ToFhirBloodPressurePanel(*first[0], *first[1], id)
                                    : io::ToFhirObservation(*first[0], id);
  // When it was stored (a panel: when its last part was), if the store said.
  Instant stored{0};
  for (const auto* o : first) stored = std::max(stored, o->stored_at);
  if (stored.us_since_epoch > 0) resource["meta"] = {{"lastUpdated", FormatRfc3339(stored)}};
  return {std::move(id), std::move(resource)};
}

std::string VersionETag(int version) { return "W/\"" + std::to_string(version) + "\""; }

std::string DoseId(const record::Event& e) {
  return e.patient + "-dose-" + std::to_string(e.time.us_since_epoch);
}

void AddVersionHeaders(Response& r, int version, const std::string& last_updated) {
  if (version <= 0) return;
  r.headers.emplace_back("ETag", VersionETag(version));
  if (auto t = ParseRfc3339(last_updated); t.ok()) {
    r.headers.emplace_back("Last-Modified", FormatHttpDate(*t));
  }
}

std::string StringMember(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

// If-Match: W/"3" or "3" → 3; nullopt when absent; an error when it is not a version.
Result<std::optional<int>> IfMatch(const Request& req) {
  auto it = req.find("If-Match");
  if (it == req.end()) return std::optional<int>();
  std::string_view v(it->value().data(), it->value().size());
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto n = ParseInt64(v);
  if (!n || *n < 0 || *n > 1'000'000'000) {
    return InvalidArgument("If-Match", "a version tag such as W/\"3\"");
  }
  return std::optional<int>(static_cast<int>(*n));
}

}  // namespace medtwin::server
