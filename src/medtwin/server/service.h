// server/service.h — the twin service behind the API: patients, durable ingest (validate →
// store → twins), history, twins, alerts, metrics. Durable first: an observation is applied to
// its twin and acknowledged only after the store has committed it. On start every patient and
// observation is loaded from the store and the twins are rebuilt.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "medtwin/core/result.h"
#include "medtwin/security/field_crypto.h"
#include "medtwin/server/access.h"
#include "medtwin/server/audit_log.h"
#include "medtwin/server/http_server.h"
#include "medtwin/server/locations.h"
#include "medtwin/server/trials.h"
#include "medtwin/store/store.h"
#include "medtwin/twin/engine.h"
#include "medtwin/twin/kinds/glucose.h"

namespace medtwin::server {

// Result of an ingest call: per item accepted (maybe as a duplicate) or rejected with a reason.
struct IngestReport {
  nlohmann::json accepted = nlohmann::json::array();  // [{"index": i, "duplicate": bool}]
  nlohmann::json rejected = nlohmann::json::array();  // [{"index": i, "field": …, "reason": …}]
  Instant stored_at{0};  // when the readings not duplicates were stored (their stored_at)
};

// A FHIR transaction's writes (R4 §3.1.0.11.2, all or nothing): patients created or changed,
// readings and doses, checked together and committed in one store transaction.
struct TransactionWrites {
  struct PatientWrite {
    nlohmann::json doc = {};  // io::ParsePatient's form, with its id
    bool update = false;      // changes the patient with that id (else creates it)
    // Or a typed change of patient `id` (an Encounter entry's stay), applied to the record as
    // the transaction has left it so far; it may refuse (its error names the element).
    std::string id = {};
    std::function<Status(record::PatientRecord&)> change = {};
  };
  std::vector<PatientWrite> patients;
  std::vector<record::Observation> observations;
  std::vector<record::Event> events;  // doses given
  std::string by;                     // who (token subject), for a consent change's history
};

struct TransactionCommitted {
  std::vector<record::PatientRecord> patients;  // per write, as stored
  store::WriteBatchResult inserted;             // per reading and dose: false for a duplicate
};

// The write that refused a transaction, for the answer's element path.
struct TransactionRefusal {
  enum class Part { kNone, kPatient, kObservation, kEvent };
  Part part = Part::kNone;
  std::size_t index = 0;  // in its part of TransactionWrites
};

struct ServiceMetrics {
  std::atomic<std::uint64_t> observations_accepted{0}, observations_duplicate{0},
      observations_rejected{0}, ingest_requests{0}, ingest_us_total{0}, http_requests{0},
      // Observations the twins took whose commit then failed (the alert lane): the twins are
      // ahead of the store until a restart rebuilds them.
      observations_applied_not_stored{0};
};

// A fresh patient id ("p-" and 12 hex digits) for a patient created without one.
[[nodiscard]] std::string NewPatientId();

class TwinService {
 public:
  // Loads patients and replays observations from `store` into the twins.
  // With `keys`, direct identifiers (name, birth date) are stored encrypted (AES-256-GCM).
  static Result<std::unique_ptr<TwinService>> Open(
      std::unique_ptr<store::Store> store, int shards, std::shared_ptr<Broadcaster> broadcaster,
      std::shared_ptr<const security::DataKeyRing> keys = nullptr);
  ~TwinService();

  [[nodiscard]] Result<record::PatientRecord> CreatePatient(const nlohmann::json& body);
  // A change of consent keeps the consent it replaces in the record's history, with `by` (the
  // token subject) and the time.
  [[nodiscard]] Result<record::PatientRecord> UpdatePatient(
      const std::string& id, const nlohmann::json& body, const std::string& by = "",
      std::optional<int> if_match = std::nullopt);
  // Applies `change` to the patient's record and stores it (the change may refuse; identifiers
  // stay unique): for changes that come as typed values (an ADT message's encounter).
  // With `if_match` (FHIR If-Match), refused (kFailedPrecondition) unless that is the record's
  // current version. Every stored change is a new version (meta.versionId), kept in history.
  [[nodiscard]] Result<record::PatientRecord> ChangePatient(
      const std::string& id, std::optional<int> if_match,
      const std::function<Status(record::PatientRecord&)>& change);
  // All of `writes` or none of it: every part is checked against the records (a patient to
  // change exists and one to create does not, identifiers stay unique, readings and doses are
  // for known patients and not before birth) with the patients' lock held, then committed in
  // one store transaction, then applied to the twins. A refusal names its write in `refused`;
  // a failed commit changes nothing (kIoError).
  [[nodiscard]] Result<TransactionCommitted> CommitTransaction(const TransactionWrites& writes,
                                                               TransactionRefusal* refused);
  // Every stored version of the patient, newest first (empty for a patient stored before
  // versions were kept and unchanged since).
  [[nodiscard]] Result<std::vector<record::PatientRecord>> PatientHistory(const std::string& id);
  [[nodiscard]] std::optional<record::PatientRecord> Patient(const std::string& id);
  [[nodiscard]] std::vector<record::PatientRecord> Patients();
  [[nodiscard]] std::vector<std::string> PatientIds();
  // Patients holding `identifier` (system and value): a FHIR conditional create's match.
  [[nodiscard]] std::vector<record::PatientRecord> PatientsWithIdentifier(
      const record::Identifier& identifier);

  // `items` are observation objects; `patient_from_path` as in io::ParseObservation. Index
  // base: 0 for a JSON array, 1 for NDJSON lines (reported as "line").
  [[nodiscard]] Result<IngestReport> Ingest(const std::vector<nlohmann::json>& items,
                                            std::string_view patient_from_path,
                                            const std::vector<std::string>& parse_errors = {});
  // Readings already parsed and converted (FHIR, with the same limits): the same checks that
  // need the record (patient known, not before birth), then stored and applied as Ingest does;
  // the report's indices are positions in `items`.
  [[nodiscard]] Result<IngestReport> IngestObservations(std::vector<record::Observation> items);
  [[nodiscard]] Result<store::ObservationPage> History(const store::ObservationQuery& q);
  // Acknowledges an alert and stores the acknowledgement (it survives restarts); `patient`
  // (the alert's, when known) asks only that patient's twin.
  [[nodiscard]] Result<record::Alert> Acknowledge(std::uint64_t alert_id, const std::string& by,
                                                  const std::string& patient = "");
  // Records the twin's current dose recommendation as a draft order (optionally adjusted:
  // {"by", "dose_mg", "interval_h", "infusion_h"}), durable before the reply, and sends it on
  // (live stream "order", MQTT medtwin/cmd/{patient}). Returns the order.
  // With {"model": "glucose", "bolus_u", "basal_u_per_h"} it accepts a glucose plan (from the
  // what-if) as a draft insulin order; for a closed-loop patient it also sends the pump the
  // command (stream "command", MQTT) and the twin takes it as delivered.
  [[nodiscard]] Result<nlohmann::json> AcceptRecommendation(const std::string& patient,
                                                            const nlohmann::json& body);
  // Events (meals, insulin, basal rates, doses): the same report, durable before the reply.
  [[nodiscard]] Result<IngestReport> IngestEvents(const std::vector<nlohmann::json>& items,
                                                  std::string_view patient_from_path);

  [[nodiscard]] twin::TwinEngine& engine() { return *engine_; }
  [[nodiscard]] store::Store& store() { return *store_; }
  [[nodiscard]] ServiceMetrics& metrics() { return metrics_; }
  [[nodiscard]] Broadcaster& broadcaster() { return *broadcaster_; }
  [[nodiscard]] TrialRunner& trials() { return trials_; }
  [[nodiscard]] LocationRegistry& locations() { return locations_; }
  // The patient whose record holds encounter `id`, or "" (looked up without copying records).
  [[nodiscard]] std::string EncounterOwner(const std::string& encounter_id);
  // Who is where now: Location id → patient id, for every place an encounter in progress has
  // its patient in (record::EncounterLocation::occupied).
  [[nodiscard]] std::map<std::string, std::string> Occupants();
  [[nodiscard]] std::string MetricsText();
  // Also hand every alert event to `listener` (e.g. the MQTT bridge). Set before traffic flows.
  void SetAlertListener(std::function<void(const std::string&, const std::string&)> listener) {
    alert_listener_ = std::move(listener);
  }
  // The audit ledger every access is recorded in (set before traffic flows; may be null in
  // tools that open a service without serving).
  void SetAuditLog(AuditLog* log) { audit_ = log; }
  [[nodiscard]] AuditLog* audit_log() { return audit_; }
  [[nodiscard]] const security::DataKeyRing* data_keys() const { return keys_.get(); }
  void Audit(security::AuditEntry entry) {
    if (audit_ != nullptr) audit_->Record(std::move(entry));
  }
  // Recommendations (draft dose advice), accepted orders and closed-loop insulin commands go to
  // `listener` too (MQTT medtwin/cmd/{patient}).
  void SetCommandListener(std::function<void(const std::string&, const nlohmann::json&)> listener) {
    command_listener_ = std::move(listener);
  }

 private:
  TwinService(std::unique_ptr<store::Store> store, int shards,
              std::shared_ptr<Broadcaster> broadcaster);
  // Stores `events` (durable first) and applies them to the twins.
  [[nodiscard]] Status StoreAndApply(const std::vector<record::Event>& events);
  // The rest of an ingest once readings are parsed: record checks, the alert lane, the commit,
  // the report (entries named `index_key` with `parsed_index`), the metrics since `start`.
  [[nodiscard]] Result<IngestReport> StoreReadings(std::vector<record::Observation> parsed,
                                                   const std::vector<std::size_t>& parsed_index,
                                                   const char* index_key, IngestReport report,
                                                   std::chrono::steady_clock::time_point start);
  // Makes `p` its next version (version + 1, now) and the row that stores it, direct
  // identifiers sealed; StoreVersion also stores it. Under patients_mu_.
  [[nodiscard]] Result<store::PatientRow> NextVersionRow(record::PatientRecord& p);
  [[nodiscard]] Status StoreVersion(record::PatientRecord& p);
  // What the stream, the metrics and the measured covariates make of readings just committed
  // (`inserted`: one flag per reading, false for a duplicate). Body weight, height and serum
  // creatinine set the patient's covariates (the drug twins' next fit uses them) when newer
  // than the measurement that set them.
  void AfterReadingsStored(const std::vector<record::Observation>& readings,
                           const std::vector<bool>& inserted);
  // To the devices (command listener: MQTT) and the live stream as `type`.
  void SendOut(const std::string& patient, const char* type, const nlohmann::json& data);
  // What the twins tell the live stream (and the alert and command listeners).
  void Publish(const std::string& patient, const twin::TwinEventData& event);
  // `glucose`: the patient's glucose twin as it is now (null: none yet).
  [[nodiscard]] Result<nlohmann::json> AcceptGlucosePlan(const std::string& patient,
                                                         const twin::GlucoseView* glucose,
                                                         const nlohmann::json& body);

  std::unique_ptr<store::Store> store_;
  std::shared_ptr<Broadcaster> broadcaster_;
  std::unique_ptr<twin::TwinEngine> engine_;
  std::shared_mutex patients_mu_;
  std::map<std::string, record::PatientRecord> patients_;
  ServiceMetrics metrics_;
  std::atomic<std::uint64_t> alerts_published_{0};
  std::function<void(const std::string&, const std::string&)> alert_listener_;
  std::function<void(const std::string&, const nlohmann::json&)> command_listener_;
  AuditLog* audit_ = nullptr;
  std::shared_ptr<const security::DataKeyRing> keys_;
  LocationRegistry locations_{store_.get()};
  TrialRunner trials_{store_.get()};  // last: its worker stops first
};

// Items in one ingest request or MQTT message (a device gateway batches a few thousand); more
// is refused before any is parsed (413), so one request cannot hold a thread or the memory.
inline constexpr std::size_t kMaxIngestItems = 50'000;

// The items of an ingest body: the elements of an array, or the object itself.
[[nodiscard]] std::vector<nlohmann::json> JsonItems(nlohmann::json body);

// Validation limits as of now (no observation or event more than 5 min in the future).
[[nodiscard]] io::ObservationLimits LimitsNow();

// The REST API (/api/v1, /healthz, /metrics, the live stream, /fhir/r4) over a service. Every
// route but /, /healthz, /metrics and /fhir/r4/metadata needs a bearer token signed with
// `auth->key` (401), the route's access (403) and a budget of requests (429).
[[nodiscard]] Handler MakeApiHandler(TwinService& service, std::shared_ptr<const AuthOptions> auth);

// A patient record as stored, its direct identifiers sealed when `keys` is given; and back.
[[nodiscard]] Result<std::string> SealedPatientBody(const record::PatientRecord& p,
                                                    const security::DataKeyRing* keys);
[[nodiscard]] Result<record::PatientRecord> PatientFromStored(const std::string& body,
                                                              const security::DataKeyRing* keys);

// Verifies the stored audit ledger against the tree heads signed with `public_key`:
// {"ok", "records", "tree_heads_checked", "root", and when not ok "first_bad_record", "problem"}.
// Heads a witness kept (`kept_heads`) are checked too.
[[nodiscard]] nlohmann::json VerifyStoredLedger(
    store::Store& store, const std::string& public_key,
    const std::vector<security::StoredHead>& kept_heads = {});

// A clinician creating a patient is put on its care team (so they can see what they made).
void JoinCareTeam(nlohmann::json& patient_doc, const Caller& caller);

}  // namespace medtwin::server
