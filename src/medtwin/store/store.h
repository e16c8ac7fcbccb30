// store/store.h — where everything the twins learn is kept: patients and observations,
// appended in batches that are durable when the call returns (an acknowledged observation
// survives kill -9), deduplicated by (patient, code, time, source) and stamped with the time
// they were first stored, read back in time order
// with a cursor, and replayed in full to rebuild every twin on restart. One interface, two
// backends: SQLite (embedded, WAL, the default) and PostgreSQL (libpq).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/io/event.h"
#include "medtwin/io/observation.h"
#include "medtwin/security/audit.h"

namespace medtwin::store {

struct PatientRow {
  std::string id;
  std::string body;  // the patient's JSON document
  int version = 0;   // FHIR meta.versionId: 1 on create, +1 on each change (0: from before
                     // versions were kept)
};

struct ObservationQuery {
  std::string patient;
  std::string code;                 // empty: every code
  std::optional<Instant> from, to;  // inclusive
  std::size_t limit = 1000;
  std::string cursor;  // from a previous page; empty: from the start
};

struct ObservationPage {
  std::vector<record::Observation> items;
  std::string next_cursor;  // empty when there is no more
};

// Writes that commit together or not at all (a FHIR transaction: patients created or changed,
// their readings and doses; R4 §3.1.0.11.2). Each part is stored as its own call would store it.
struct WriteBatch {
  std::span<const PatientRow> patients = {};
  std::span<const record::Observation> observations = {};
  std::span<const record::Event> events = {};
};

// What a committed batch inserted: one flag per observation and per event, false for a
// duplicate of what was stored (or of an earlier item of the batch).
struct WriteBatchResult {
  std::vector<bool> observation_inserted, event_inserted;
  Instant committed_at{0};  // the stored time of the observations inserted (stored_at)
};

class Store {
 public:
  virtual ~Store() = default;
  [[nodiscard]] virtual std::string_view Kind() const = 0;  // "sqlite", "postgresql"

  // Commits every part of `batch` in one transaction: all of it is durable when this returns
  // Ok, none of it otherwise. The single-part calls below are batches of one part.
  [[nodiscard]] virtual Status Commit(const WriteBatch& batch,
                                      WriteBatchResult* result = nullptr) = 0;

  [[nodiscard]] Status UpsertPatient(const PatientRow& row) {
    return Commit({.patients = std::span(&row, 1)});
  }
  [[nodiscard]] virtual Result<std::vector<PatientRow>> LoadPatients() = 0;
  // UpsertPatient keeps every version (row.version > 0) in the patient's history in the same
  // transaction; this lists it, newest first (FHIR _history and vread).
  [[nodiscard]] virtual Result<std::vector<PatientRow>> PatientVersions(const std::string& id) = 0;

  // Appends durably. `inserted` (if given) gets one flag per item: false for a duplicate.
  [[nodiscard]] Result<std::size_t> AppendObservations(std::span<const record::Observation> items,
                                                       std::vector<bool>* inserted = nullptr);
  [[nodiscard]] virtual Result<ObservationPage> QueryObservations(const ObservationQuery& q) = 0;
  // Every observation in time order (per patient), for rebuilding twins.
  [[nodiscard]] virtual Status ForEachObservation(
      const std::function<void(const record::Observation&)>& visit) = 0;
  [[nodiscard]] virtual Result<std::size_t> CountObservations() = 0;

  // Events (meals, insulin, doses), durable and deduplicated by (patient, time, type, source).
  [[nodiscard]] Result<std::size_t> AppendEvents(std::span<const record::Event> items,
                                                 std::vector<bool>* inserted = nullptr);
  // A patient's events in time order within [from, to] (at most `limit`).
  [[nodiscard]] virtual Result<std::vector<record::Event>> QueryEvents(const std::string& patient,
                                                                       std::optional<Instant> from,
                                                                       std::optional<Instant> to,
                                                                       std::size_t limit) = 0;
  [[nodiscard]] virtual Status ForEachEvent(
      const std::function<void(const record::Event&)>& visit) = 0;

  // The audit ledger (security/audit.h): records by sequence number, append-only, and the
  // signed tree heads over them.
  // (The ledger's own record types, so what is read goes to verification as it is.)
  using AuditRow = security::StoredRecord;
  using TreeHeadRow = security::StoredHead;
  [[nodiscard]] virtual Status AppendAudit(std::span<const AuditRow> rows) = 0;
  // In row order of seq (whatever the rows now say: verification checks them).
  [[nodiscard]] virtual Status ForEachAudit(const std::function<void(const AuditRow&)>& visit) = 0;
  // The newest `limit` rows, newest first.
  [[nodiscard]] virtual Result<std::vector<AuditRow>> RecentAudit(std::size_t limit) = 0;
  // The record with sequence number `seq`, if there is one (FHIR AuditEvent read).
  [[nodiscard]] virtual Result<std::optional<AuditRow>> AuditRecord(std::uint64_t seq) = 0;
  [[nodiscard]] virtual Status AppendTreeHead(const TreeHeadRow& head) = 0;
  [[nodiscard]] virtual Result<std::vector<TreeHeadRow>> TreeHeads() = 0;  // by size

  // Finished in-silico trials (virtual patients only: no patient data), one JSON document per
  // trial id; saving an id again replaces it. The newest `limit` by save time, newest first.
  [[nodiscard]] virtual Status SaveTrial(const std::string& id, std::int64_t saved_us,
                                         const std::string& body) = 0;
  [[nodiscard]] virtual Result<std::vector<std::string>> RecentTrials(std::size_t limit) = 0;
  // The hospital's places (FHIR Location: wards, rooms, beds), one JSON document per id
  // (io/fhir_encounter.h); saving an id again replaces it. All of them, by id.
  [[nodiscard]] virtual Status SaveLocation(const std::string& id, const std::string& body) = 0;
  [[nodiscard]] virtual Result<std::vector<std::string>> LoadLocations() = 0;
  // Revoked bearer tokens by id (jti), kept until they would have expired anyway.
  [[nodiscard]] virtual Status RevokeToken(const std::string& jti, std::int64_t revoked_us,
                                           std::int64_t expires_s) = 0;
  [[nodiscard]] virtual Result<std::vector<std::string>> RevokedTokens(std::int64_t now_s) = 0;
  // Can a write be committed now (disk not full, database reachable)? A one-row write that is
  // committed as observations are: for readiness checks.
  [[nodiscard]] virtual Status CheckWritable(std::int64_t now_us) = 0;
};

// An event from its stored JSON form (shared by the backends).
[[nodiscard]] Result<record::Event> EventFromStored(const std::string& body);

// "sqlite:PATH[?sync=full|normal]" (":memory:" allowed; full — the default — survives power
// loss, normal survives a crash of the process) or "postgresql://…" / "postgres://…".
[[nodiscard]] Result<std::unique_ptr<Store>> OpenStore(std::string_view url);
[[nodiscard]] Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
[[nodiscard]] Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo);

}  // namespace medtwin::store
