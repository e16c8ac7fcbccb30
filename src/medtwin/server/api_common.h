// server/api_common.h — what the route handlers share: JSON and text replies, the API's error
// body {"error": {"code", "field", "message"}} with the one map from an error's meaning to its
// HTTP status, bodies parsed as untrusted JSON, ingest reports, and FHIR's reply forms
// (application/fhir+json, OperationOutcome, searchset Bundles).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/record/event.h"
#include "medtwin/record/observation.h"
#include "medtwin/server/access.h"
#include "medtwin/server/http_server.h"
#include "medtwin/server/service.h"

namespace medtwin::server {

[[nodiscard]] Response Json(unsigned status, const nlohmann::json& body);
[[nodiscard]] Response Text(const char* content_type, std::string body);
// The API's error code for an error: core's name, except where the API has its own older one.
[[nodiscard]] std::string_view CodeName(ErrorCode c);
[[nodiscard]] Response Fail(unsigned status, const Error& e);
[[nodiscard]] Response Fail(unsigned status, const char* code, const std::string& field,
                            const std::string& message);
// The one map from an error's meaning to its HTTP status.
[[nodiscard]] unsigned StatusFor(const Error& e);
// Fail with the status the error's meaning calls for.
[[nodiscard]] inline Response FailFor(const Error& e) { return Fail(StatusFor(e), e); }
[[nodiscard]] Result<nlohmann::json> ParseBody(const Request& req);
// A body that may be empty: {} then.
[[nodiscard]] Result<nlohmann::json> ParseOptionalBody(const Request& req);
// "no patient 'ID'" as a 404.
[[nodiscard]] Response NoPatient(const std::string& id);

// An ingest report: 200 when something was accepted (or nothing was given), 422 when every
// item was rejected; rejections listed up to 100 and counted by field and reason beyond.
[[nodiscard]] Response ReportResponse(const Result<IngestReport>& report);

// FHIR replies.
[[nodiscard]] Response Fhir(unsigned status, const nlohmann::json& body);
[[nodiscard]] Response Outcome(unsigned status, const std::string& type, const std::string& where,
                               const std::string& why);
// 406 for a FHIR request that asks for a format other than JSON (_format, Accept), 415 for a
// body in one (Content-Type); none when it is JSON or does not say.
[[nodiscard]] std::optional<Response> RefuseFhirFormat(const Request& req, const Target& target);

// A searchset Bundle of `resources`; with `rq` each entry gets its fullUrl and the Bundle its
// self link (the search as received).
[[nodiscard]] nlohmann::json Searchset(const nlohmann::json& resources,
                                       const RouteRequest* rq = nullptr);
// The FHIR base the client addressed: http(s)://{Host}/fhir/r4 (https when the server has TLS).
[[nodiscard]] std::string FhirBase(const RouteRequest& rq);
// Ids the FHIR endpoint gives stored observations and doses.
// FHIR ids of stored readings, made from what identifies one (patient, code, time, source) so a
// read by id needs no table: "o.PPPPPPPP.CODE.TTTTTTTTTTTTTTTT.SSSSSSSS" (patient and source as
// FNV-1a 32-bit hashes, the time in µs as 16 hex digits; ≤ 45 characters, FHIR's id rule).
// A blood-pressure panel is "bp." and its systolic reading's parts with code 85354-9.
[[nodiscard]] std::string ObservationId(const record::Observation& o);
[[nodiscard]] std::string PanelId(const record::Observation& systolic);
struct ObservationKey {
  bool panel = false;
  std::uint32_t patient_hash = 0;
  std::string code;
  Instant time;
  std::uint32_t source_hash = 0;
};
[[nodiscard]] std::optional<ObservationKey> ParseObservationId(std::string_view id);
[[nodiscard]] std::uint32_t IdHash(std::string_view text);
// Readings grouped into measurements, in their order: with `panels`, a systolic and a
// diastolic reading of the same time and device are one (in the systolic's place); every
// other reading is one by itself.
[[nodiscard]] std::vector<std::vector<const record::Observation*>> Measurements(
    const std::vector<record::Observation>& readings, bool panels);
// The id FhirObservationOf gives the measurement `readings` are (without building it).
[[nodiscard]] std::string MeasurementId(const std::vector<record::Observation>& readings);
// The readings of one stored measurement as FHIR: a systolic and diastolic pair as one panel,
// else the first reading. With its id.
[[nodiscard]] std::pair<std::string, nlohmann::json> FhirObservationOf(
    const std::vector<record::Observation>& readings);
[[nodiscard]] std::string DoseId(const record::Event& e);
// A version as an entity tag (R4 §3.1.0.4.4: weak, the versionId quoted): W/"3".
[[nodiscard]] std::string VersionETag(int version);
// A versioned resource's ETag and Last-Modified (`last_updated` RFC 3339), when it has a
// version (> 0).
void AddVersionHeaders(Response& r, int version, const std::string& last_updated);
// If-Match: W/"3" or "3" → 3; nullopt when absent; an error when it is not a version.
[[nodiscard]] Result<std::optional<int>> IfMatch(const Request& req);
// A string member of an untrusted object, or "" (never an exception).
[[nodiscard]] std::string StringMember(const nlohmann::json& j, const char* key);

}  // namespace medtwin::server
