// io/observation.h — observations as they arrive from devices and records: the catalog of
// LOINC codes medtwin understands (with the one unit each is stored in and the range a real
// value can take) and the JSON form
//   {"patient": ID, "code": "8867-4", "value": 88, "unit": "/min",
//    "time": "2026-11-25T10:00:00Z", "source": "monitor-12"}
// parsed with every error naming its field. Values arrive in any convertible UCUM unit
// ([degF] → Cel, mmol/L → mg/dL for glucose) and are stored in the canonical one.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/core/time.h"
#include "medtwin/record/observation.h"

namespace medtwin::io {

// The record types io reads and writes (record/observation.h).
using record::FindObservationCode;
using record::Observation;
using record::ObservationCatalog;
using record::ObservationCode;
namespace loinc = record::loinc;

struct ObservationLimits {
  Instant now;                               // to reject times in the future
  std::int64_t max_future_us = 300'000'000;  // 5 min of clock skew allowed
  // Nothing measured on a living patient predates 1900-01-01 (a year-0001 date is a default
  // value, not a reading); the service also refuses times before the patient's birth date.
  Instant earliest{-2'208'988'800'000'000};
  // Reading back what the store holds: text is taken as stored (no control-character check),
  // so a record an earlier version accepted never stops a restart.
  bool as_stored = false;
};

// Parses one observation object. `patient_from_path`, when non-empty, is the patient the URL
// names: a "patient" member must then match it (or may be left out).
[[nodiscard]] Result<Observation> ParseObservation(const nlohmann::json& j,
                                                   std::string_view patient_from_path,
                                                   const ObservationLimits& limits);

// JSON form of a stored observation (canonical unit).
[[nodiscard]] nlohmann::json ObservationToJson(const Observation& o);

// An NDJSON body, line by line: each non-blank line parsed as JSON (CR LF accepted); a line
// that is not JSON (or nests too deep, io/json_input.h) comes back as null with `malformed` set
// and the reason in `error`. Lines keep their 1-based numbers.
struct NdjsonLine {
  std::size_t number = 0;
  nlohmann::json value;
  bool malformed = false;
  std::string error;
};
// The number of non-blank lines of an NDJSON body, without parsing them (to refuse a body with
// too many lines before doing any work on it).
[[nodiscard]] std::size_t CountNdjsonLines(std::string_view body);
[[nodiscard]] std::vector<NdjsonLine> ReadNdjson(std::string_view body);

}  // namespace medtwin::io
