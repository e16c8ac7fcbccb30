#include "medtwin/server/service.h"

#include "medtwin/io/advice_json.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/server/twin_json.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

namespace medtwin::server {

using nlohmann::json;

namespace {

// A twin's event as the live stream (and MQTT) carry it: its SSE event type and its data.
std::pair<std::string_view, json> TwinEventToJson(const std::string& patient,
                                                  const twin::TwinEventData& event) {
  struct Visitor {
    const std::string& patient;
    std::pair<std::string_view, json> operator()(const record::Observation& o) const {
      return {"observation", io::ObservationToJson(o)};
    }
    std::pair<std::string_view, json> operator()(const record::Event& e) const {
      return {"event", io::EventToJson(e)};
    }
    std::pair<std::string_view, json> operator()(const twin::News2Changed& n) const {
      return {"twin", json{{"patient", patient}, {"news2", News2ViewToJson(n)}}};
    }
    std::pair<std::string_view, json> operator()(const record::Alert& a) const {
      return {"alert", io::AlertToJson(a)};
    }
    std::pair<std::string_view, json> operator()(const record::InsulinCommand& c) const {
      return {"command", io::InsulinCommandToJson(c)};
    }
    std::pair<std::string_view, json> operator()(const record::Recommendation& r) const {
      return {"recommendation", io::RecommendationToJson(r)};
    }
  };
  return std::visit(Visitor{patient}, event);
}

}  // namespace

TwinService::TwinService(std::unique_ptr<store::Store> store, int shards,
                         std::shared_ptr<Broadcaster> broadcaster)
    : store_(std::move(store)), broadcaster_(std::move(broadcaster)) {
  Broadcaster* b = broadcaster_.get();
  engine_ = std::make_unique<twin::TwinEngine>(
      shards,
      [this](const std::string& patient, const twin::TwinEventData& event) {
        Publish(patient, event);
      },
      [b](const std::string& patient) { return b->Wants(patient); });
}

void TwinService::Publish(const std::string& patient, const twin::TwinEventData& event) {
  const auto [type, data] = TwinEventToJson(patient, event);
  const std::string text = io::DumpJson(data);
  if (type == "alert") {
    ++alerts_published_;
    if (alert_listener_) alert_listener_(patient, text);
  }
  if ((type == "recommendation" || type == "command" || type == "order") && command_listener_) {
    command_listener_(patient, data);
  }
  broadcaster_->Publish(patient, type, text);
}

TwinService::~TwinService() { engine_->Drain(); }

namespace {

// Direct identifiers in the patient record, encrypted at rest when the server has data keys:
// name and birth date, and each identifier's and contact point's value. `visit` gets every such
// string (non-empty) and the field name the ciphertext is bound to.
template <typename Visit>
Status ForEachSealedValue(json& doc, Visit visit) {
  for (const char* field : {"name", "birth_date"}) {
    auto it = doc.find(field);
    if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) continue;
    MEDTWIN_RETURN_IF_ERROR(visit(*it, std::string(field)));
  }
  for (const char* list : {"identifiers", "telecom"}) {
    auto it = doc.find(list);
    if (it == doc.end() || !it->is_array()) continue;
    for (auto& item : *it) {
      if (!item.is_object() || !item.contains("value") || !item["value"].is_string()) continue;
      MEDTWIN_RETURN_IF_ERROR(visit(item["value"], std::string(list) + ".value"));
    }
  }
  return Ok{};
}

}  // namespace

Result<std::string> SealedPatientBody(const record::PatientRecord& p,
                                      const security::DataKeyRing* keys) {
  json doc = io::PatientToJson(p);
  if (keys == nullptr) return doc.dump();
  MEDTWIN_RETURN_IF_ERROR(
      ForEachSealedValue(doc, [&](json& value, const std::string& field) -> Status {
        MEDTWIN_TRY(std::string sealed, keys->Encrypt(value.get<std::string>(), field, p.id));
        value = std::move(sealed);
        return Ok{};
      }));
  return doc.dump();
}

Result<record::PatientRecord> PatientFromStored(const std::string& body,
                                                const security::DataKeyRing* keys) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return Error{ErrorCode::kIoError, "store", "a stored patient is not JSON"};
  const std::string owner =
      doc.contains("id") && doc["id"].is_string() ? doc["id"].get<std::string>() : "";
  MEDTWIN_RETURN_IF_ERROR(
      ForEachSealedValue(doc, [&](json& value, const std::string& field) -> Status {
        const std::string text = value.get<std::string>();
        if (!security::DataKeyRing::IsEncrypted(text)) return Ok{};
        if (keys == nullptr) {
          return Error{ErrorCode::kInvalidArgument, "--data-key",
                       "stored identifiers are encrypted: give the data key file"};
        }
        MEDTWIN_TRY(std::string plain, keys->Decrypt(text, field, owner));
        value = std::move(plain);
        return Ok{};
      }));
  MEDTWIN_TRY(record::PatientRecord p, io::ParsePatient(doc, nullptr, /*from_store=*/true),
              "stored patient");
  return p;
}

Result<std::unique_ptr<TwinService>> TwinService::Open(
    std::unique_ptr<store::Store> store, int shards, std::shared_ptr<Broadcaster> broadcaster,
    std::shared_ptr<const security::DataKeyRing> keys) {
  std::unique_ptr<TwinService> s(new TwinService(std::move(store), shards, std::move(broadcaster)));
  s->keys_ = std::move(keys);
  MEDTWIN_RETURN_IF_ERROR(s->locations_.Load());
  MEDTWIN_TRY(auto rows, s->store_->LoadPatients());
  for (const auto& row : rows) {
    auto p = PatientFromStored(row.body, s->keys_.get());
    if (!p.ok()) return p.error();
    s->patients_[p->id] = *p;
    s->engine_->UpsertPatient(*p);
    // Stays stored before Locations were kept name beds by the ADT id rule: make them.
    for (const auto& e : p->encounters) {
      for (const auto& l : e.locations) {
        if (!l.location_id.empty() && !l.bed.empty() && !s->locations_.Get(l.location_id)) {
          MEDTWIN_RETURN_IF_ERROR(s->locations_.EnsureBed(l.bed));
        }
      }
    }
  }
  // Replay history so the twins come back as they were: observations in batches, each
  // patient's events interleaved at their times (both streams are ordered by patient, time).
  std::vector<record::Event> events;
  MEDTWIN_RETURN_IF_ERROR(
      s->store_->ForEachEvent([&](const record::Event& e) { events.push_back(e); }));
  std::size_t next_event = 0;
  std::vector<record::Observation> batch;
  auto before = [](const record::Event& e, const record::Observation& o) {
    return e.patient < o.patient || (e.patient == o.patient && e.time <= o.time);
  };
  MEDTWIN_RETURN_IF_ERROR(s->store_->ForEachObservation([&](const record::Observation& o) {
    if (next_event < events.size() && before(events[next_event], o)) {
      if (!batch.empty()) s->engine_->Apply(std::exchange(batch, {}), false);
      std::vector<record::Event> due;
      while (next_event < events.size() && before(events[next_event], o)) {
        due.push_back(events[next_event++]);
      }
      s->engine_->ApplyEvents(std::move(due), false);
    }
    batch.push_back(o);
    if (batch.size() >= 4096) s->engine_->Apply(std::exchange(batch, {}), false);
  }));
  if (!batch.empty()) s->engine_->Apply(std::move(batch), false);
  if (next_event < events.size()) {
    s->engine_->ApplyEvents(
        std::vector<record::Event>(events.begin() + static_cast<std::ptrdiff_t>(next_event),
                                   events.end()),
        false);
  }
  s->engine_->Drain();
  return s;
}

std::vector<json> JsonItems(json body) {
  std::vector<json> items;
  if (body.is_array()) {
    for (auto& e : body) items.push_back(std::move(e));
  } else {
    items.push_back(std::move(body));
  }
  return items;
}

io::ObservationLimits LimitsNow() {
  io::ObservationLimits limits;
  limits.now = WallClockNow();
  return limits;
}

namespace {}  // namespace

std::string NewPatientId() {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  char buf[32];
  std::snprintf(buf, sizeof buf, "p-%012llx",
                static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return buf;
}

namespace {

// An identifier of `p` that another patient already holds (an identifier is unique within its
// system), as an error naming it; Ok if none. In a transaction, the stored records of the
// patients it writes (`replaced`) do not count. Called with the patients' lock held.
Status CheckIdentifiersFree(const record::PatientRecord& p,
                            const std::map<std::string, record::PatientRecord>& patients,
                            const std::set<std::string>& replaced = {}) {
  for (std::size_t i = 0; i < p.identifiers.size(); ++i) {
    const record::Identifier& mine = p.identifiers[i];
    auto held_by_other = [&](const std::string& id, const record::PatientRecord& other) {
      return id != p.id && std::find(other.identifiers.begin(), other.identifiers.end(), mine) !=
                               other.identifiers.end();
    };
    bool held = false;
    for (const auto& [id, other] : patients) {
      if (replaced.count(id) == 0 && held_by_other(id, other)) held = true;
    }
    if (held) {
      // The other patient is not named: the caller may not be allowed to see them.
      return Error{ErrorCode::kAlreadyExists, "identifiers[" + std::to_string(i) + "]",
                   "another patient holds this identifier in system '" + mine.system + "'"};
    }
  }
  return Ok{};
}

// `body` (io::ParsePatient's form) applied to the stored record `p`; a change of consent keeps
// the consent it replaces, with who changed it and when.
Status ApplyPatientDocument(record::PatientRecord& p, const json& body, const std::string& by) {
  const record::Consent before = p.consent;
  MEDTWIN_TRY(p, io::ParsePatient(body, &p));
  if (io::ConsentToJson(p.consent) != io::ConsentToJson(before)) {
    p.consent_history.push_back(
        {before, FormatRfc3339(WallClockNow()), by.empty() ? "unknown" : by});
  }
  return Ok{};
}

// Why a reading cannot be stored for `record` (null: no such patient) as {field, reason};
// empty if it can.
std::optional<std::pair<const char*, const char*>> ReadingRefusal(
    const record::Observation& o, const record::PatientRecord* record) {
  if (record == nullptr) return std::pair{"patient", "unknown patient"};
  if (record->birth_date) {
    if (auto born = ParseRfc3339(*record->birth_date + "T00:00:00Z"); born.ok() && o.time < *born) {
      return std::pair{"time", "before the patient's birth date"};
    }
  }
  return std::nullopt;
}

// Body weight, height or serum creatinine measured by `o` set the covariate of `p` when newer
// than the measurement that set it (any measurement replaces a value entered by hand).
// Returns whether `p` changed.
bool IsMeasuredCovariate(const record::Observation& o) {
  return o.code == record::loinc::kBodyWeight || o.code == record::loinc::kBodyHeight ||
         o.code == record::loinc::kCreatinine;
}

bool TakeMeasuredCovariate(record::PatientRecord& p, const record::Observation& o) {
  if (!IsMeasuredCovariate(o)) return false;
  const bool weight = o.code == record::loinc::kBodyWeight;
  const bool height = o.code == record::loinc::kBodyHeight;
  const char* field = weight ? "weight_kg" : height ? "height_cm" : "scr_mg_dl";
  if (auto m = p.measured_at.find(field); m != p.measured_at.end()) {
    if (auto then = ParseRfc3339(m->second); then.ok() && o.time <= *then) return false;
  }
  (weight ? p.weight_kg : height ? p.height_cm : p.scr_mg_dl) = o.value;
  p.measured_at[field] = FormatRfc3339(o.time);
  return true;
}

}  // namespace

Result<record::PatientRecord> TwinService::CreatePatient(const json& body) {
  MEDTWIN_TRY(record::PatientRecord p, io::ParsePatient(body));
  if (p.id.empty()) p.id = NewPatientId();
  {
    std::unique_lock lock(patients_mu_);
    if (patients_.count(p.id) > 0) {
      return Error{ErrorCode::kAlreadyExists, "id", "patient '" + p.id + "' exists"};
    }
    MEDTWIN_RETURN_IF_ERROR(CheckIdentifiersFree(p, patients_));
    p.version = 0;
    MEDTWIN_RETURN_IF_ERROR(StoreVersion(p));
    patients_[p.id] = p;
  }
  engine_->UpsertPatient(p);
  return p;
}

Result<record::PatientRecord> TwinService::UpdatePatient(const std::string& id, const json& body,
                                                         const std::string& by,
                                                         std::optional<int> if_match) {
  return ChangePatient(id, if_match, [&](record::PatientRecord& p) -> Status {
    return ApplyPatientDocument(p, body, by);
  });
}

Result<record::PatientRecord> TwinService::ChangePatient(
    const std::string& id, std::optional<int> if_match,
    const std::function<Status(record::PatientRecord&)>& change) {
  std::unique_lock lock(patients_mu_);
  auto it = patients_.find(id);
  if (it == patients_.end()) return NotFound("patient", "no patient '" + id + "'");
  if (if_match && *if_match != it->second.version) {
    return Error{ErrorCode::kFailedPrecondition, "If-Match",
                 "version " + std::to_string(*if_match) + " is not the current one (" +
                     std::to_string(it->second.version) + ")"};
  }
  record::PatientRecord p = it->second;
  MEDTWIN_RETURN_IF_ERROR(change(p));
  if (p.id != id) return InvalidArgument("id", "cannot be changed");
  p.version = it->second.version;
  MEDTWIN_RETURN_IF_ERROR(CheckIdentifiersFree(p, patients_));
  MEDTWIN_RETURN_IF_ERROR(StoreVersion(p));
  it->second = p;
  engine_->UpsertPatient(p);
  return p;
}

Result<store::PatientRow> TwinService::NextVersionRow(record::PatientRecord& p) {
  // (A record stored before versions were kept is 0, and becomes 1 when first changed.)
  p.version += 1;
  p.last_updated = FormatRfc3339(WallClockNow());
  MEDTWIN_TRY(std::string stored, SealedPatientBody(p, keys_.get()));
  return store::PatientRow{p.id, std::move(stored), p.version};
}

Status TwinService::StoreVersion(record::PatientRecord& p) {
  MEDTWIN_TRY(const store::PatientRow row, NextVersionRow(p));
  return store_->UpsertPatient(row);
}

Result<TransactionCommitted> TwinService::CommitTransaction(const TransactionWrites& writes,
                                                            TransactionRefusal* refused) {
  using Part = TransactionRefusal::Part;
  auto refuse = [&](Part part, std::size_t index, Error e) -> Error {
    if (refused != nullptr) *refused = {part, index};
    return e;
  };
  const auto start = std::chrono::steady_clock::now();
  TransactionCommitted out;
  // Patient records change only under the exclusive lock, held through the commit so no other
  // write can take an identifier or a version between the checks and the commit. Readings and
  // doses alone need the records only to be checked (patients are never removed). (Measured
  // covariates are taken after the commit, from the readings the store inserted, as for any
  // ingest: a resent old weight must not replace one entered since.)
  const bool changes_records = !writes.patients.empty();
  std::unique_lock exclusive(patients_mu_, std::defer_lock);
  std::shared_lock shared(patients_mu_, std::defer_lock);
  if (changes_records) {
    exclusive.lock();
  } else {
    shared.lock();
  }
  std::map<std::string, record::PatientRecord>
      staged;  // the records as the transaction leaves them
  auto current = [&](const std::string& id) -> const record::PatientRecord* {
    if (auto it = staged.find(id); it != staged.end()) return &it->second;
    auto it = patients_.find(id);
    return it == patients_.end() ? nullptr : &it->second;
  };
  std::vector<std::string> written_ids;  // per patient write
  for (std::size_t i = 0; i < writes.patients.size(); ++i) {
    const auto& w = writes.patients[i];
    const std::string id = w.change ? w.id : w.doc.value("id", "");
    const record::PatientRecord* was = current(id);
    record::PatientRecord p;
    if (w.change) {
      if (was == nullptr)
        return refuse(Part::kPatient, i, NotFound("id", "no patient '" + id + "'"));
      p = *was;
      if (Status s = w.change(p); !s.ok()) return refuse(Part::kPatient, i, s.error());
    } else if (w.update) {
      if (was == nullptr)
        return refuse(Part::kPatient, i, NotFound("id", "no patient '" + id + "'"));
      p = *was;
      if (Status s = ApplyPatientDocument(p, w.doc, writes.by); !s.ok()) {
        return refuse(Part::kPatient, i, s.error());
      }
      if (p.id != id) return refuse(Part::kPatient, i, InvalidArgument("id", "cannot be changed"));
    } else {
      if (was != nullptr) {
        return refuse(Part::kPatient, i,
                      Error{ErrorCode::kAlreadyExists, "id", "patient '" + id + "' exists"});
      }
      auto parsed = io::ParsePatient(w.doc);
      if (!parsed.ok()) return refuse(Part::kPatient, i, parsed.error());
      p = std::move(*parsed);
      if (p.id.empty()) p.id = NewPatientId();
      p.version = 0;
    }
    written_ids.push_back(p.id);
    staged[p.id] = std::move(p);
  }
  // Identifiers stay unique among the records as the transaction leaves them. The write named
  // for a clash is the one that takes the identifier: not the one whose patient already held
  // it, and of two that both take it, the later.
  const std::set<std::string> replaced(written_ids.begin(), written_ids.end());
  std::map<std::string, std::size_t> first_write;  // patient → index of its first write
  for (std::size_t i = 0; i < written_ids.size(); ++i) first_write.emplace(written_ids[i], i);
  auto kept = [&](const std::string& id, const record::Identifier& ident) {
    auto it = patients_.find(id);
    return it != patients_.end() &&
           std::find(it->second.identifiers.begin(), it->second.identifiers.end(), ident) !=
               it->second.identifiers.end();
  };
  for (std::size_t i = 0; i < written_ids.size(); ++i) {
    const record::PatientRecord& p = staged.at(written_ids[i]);
    if (Status s = CheckIdentifiersFree(p, patients_, replaced); !s.ok()) {
      return refuse(Part::kPatient, i, s.error());
    }
    for (std::size_t k = 0; k < p.identifiers.size(); ++k) {
      const record::Identifier& ident = p.identifiers[k];
      for (const auto& [id, q] : staged) {
        if (id == p.id ||
            std::find(q.identifiers.begin(), q.identifiers.end(), ident) == q.identifiers.end()) {
          continue;
        }
        const bool p_kept = kept(p.id, ident), q_kept = kept(id, ident);
        if (p_kept || (!q_kept && first_write.at(id) > first_write.at(p.id))) continue;
        return refuse(
            Part::kPatient, i,
            Error{ErrorCode::kAlreadyExists, "identifiers[" + std::to_string(k) + "]",
                  "another patient holds this identifier in system '" + ident.system + "'"});
      }
    }
  }
  for (std::size_t i = 0; i < writes.observations.size(); ++i) {
    const auto& o = writes.observations[i];
    if (auto why = ReadingRefusal(o, current(o.patient))) {
      return refuse(Part::kObservation, i, InvalidArgument(why->first, why->second));
    }
  }
  for (std::size_t i = 0; i < writes.events.size(); ++i) {
    if (current(writes.events[i].patient) == nullptr) {
      return refuse(Part::kEvent, i, InvalidArgument("patient", "unknown patient"));
    }
  }
  std::vector<store::PatientRow> rows;
  for (auto& [id, p] : staged) {
    auto row = NextVersionRow(p);
    if (!row.ok()) return row.error();
    rows.push_back(std::move(*row));
  }
  if (shared.owns_lock()) shared.unlock();
  MEDTWIN_RETURN_IF_ERROR(store_->Commit(
      {.patients = rows, .observations = writes.observations, .events = writes.events},
      &out.inserted));
  if (exclusive.owns_lock()) {
    for (auto& [id, p] : staged) {
      patients_[id] = p;
      engine_->UpsertPatient(p);  // under the lock, as ChangePatient does: in version order
    }
    exclusive.unlock();
  }
  for (const auto& id : written_ids) out.patients.push_back(staged.at(id));
  std::vector<record::Observation> fresh;
  for (std::size_t k = 0; k < writes.observations.size(); ++k) {
    if (out.inserted.observation_inserted[k]) fresh.push_back(writes.observations[k]);
  }
  if (!fresh.empty()) engine_->Apply(fresh, /*publish=*/true, /*publish_observations=*/false);
  AfterReadingsStored(writes.observations, out.inserted.observation_inserted);
  std::vector<record::Event> given;
  for (std::size_t k = 0; k < writes.events.size(); ++k) {
    if (out.inserted.event_inserted[k]) given.push_back(writes.events[k]);
  }
  if (!given.empty()) engine_->ApplyEvents(std::move(given));
  ++metrics_.ingest_requests;
  metrics_.ingest_us_total +=
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
  return out;
}

Result<std::vector<record::PatientRecord>> TwinService::PatientHistory(const std::string& id) {
  MEDTWIN_TRY(auto rows, store_->PatientVersions(id));
  std::vector<record::PatientRecord> out;
  for (const auto& row : rows) {
    MEDTWIN_TRY(record::PatientRecord p, PatientFromStored(row.body, keys_.get()));
    out.push_back(std::move(p));
  }
  return out;
}

std::string TwinService::EncounterOwner(const std::string& encounter_id) {
  std::shared_lock lock(patients_mu_);
  for (const auto& [id, p] : patients_) {
    for (const auto& e : p.encounters) {
      if (e.id == encounter_id) return id;
    }
  }
  return "";
}

std::map<std::string, std::string> TwinService::Occupants() {
  std::shared_lock lock(patients_mu_);
  std::map<std::string, std::string> out;
  for (const auto& [id, p] : patients_) {
    for (const auto& e : p.encounters) {
      if (e.status != "in-progress") continue;
      for (const auto& l : e.locations) {
        if (l.occupied() && !l.location_id.empty()) out[l.location_id] = id;
      }
    }
  }
  return out;
}

std::optional<record::PatientRecord> TwinService::Patient(const std::string& id) {
  std::shared_lock lock(patients_mu_);
  auto it = patients_.find(id);
  if (it == patients_.end()) return std::nullopt;
  return it->second;
}

std::vector<record::PatientRecord> TwinService::PatientsWithIdentifier(
    const record::Identifier& identifier) {
  std::shared_lock lock(patients_mu_);
  std::vector<record::PatientRecord> out;
  for (const auto& [id, p] : patients_) {
    if (std::find(p.identifiers.begin(), p.identifiers.end(), identifier) != p.identifiers.end()) {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<std::string> TwinService::PatientIds() {
  std::shared_lock lock(patients_mu_);
  std::vector<std::string> out;
  out.reserve(patients_.size());
  for (const auto& [id, p] : patients_) out.push_back(id);
  return out;
}

std::vector<record::PatientRecord> TwinService::Patients() {
  std::shared_lock lock(patients_mu_);
  std::vector<record::PatientRecord> out;
  for (const auto& [id, p] : patients_) out.push_back(p);
  return out;
}

namespace {

// The stored readings that items not inserted (duplicates by patient, code, time and source)
// collided with, by index in `items`: one query per patient and code.
std::map<std::size_t, record::Observation> StoredValuesOfDuplicates(
    store::Store& store, const std::vector<record::Observation>& items,
    const std::vector<bool>& inserted) {
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (!inserted[k]) groups[{items[k].patient, items[k].code}].push_back(k);
  }
  std::map<std::size_t, record::Observation> out;
  for (const auto& [key, indices] : groups) {
    store::ObservationQuery q;
    q.patient = key.first;
    q.code = key.second;
    q.from = q.to = items[indices.front()].time;
    for (std::size_t k : indices) {
      q.from = std::min(*q.from, items[k].time);
      q.to = std::max(*q.to, items[k].time);
    }
    q.limit = 100'000;
    auto page = store.QueryObservations(q);
    if (!page.ok()) continue;  // the report then says duplicate only
    std::map<std::pair<std::int64_t, std::string>, const record::Observation*> by_key;
    for (const auto& o : page->items) by_key[{o.time.us_since_epoch, o.source}] = &o;
    for (std::size_t k : indices) {
      auto it = by_key.find({items[k].time.us_since_epoch, items[k].source});
      if (it != by_key.end()) out[k] = *it->second;
    }
  }
  return out;
}

bool SameReading(const record::Observation& a, const record::Observation& b) {
  return a.text == b.text && (a.value == b.value || std::abs(a.value - b.value) <=
                                                        1e-12 * std::max(std::abs(a.value), 1.0));
}

}  // namespace

Result<IngestReport> TwinService::Ingest(const std::vector<json>& items,
                                         std::string_view patient_from_path,
                                         const std::vector<std::string>& parse_errors) {
  const auto start = std::chrono::steady_clock::now();
  IngestReport report;
  const bool lines = !parse_errors.empty();
  const char* index_key = lines ? "line" : "index";
  const io::ObservationLimits limits = LimitsNow();
  std::vector<record::Observation> parsed;
  std::vector<std::size_t> parsed_index;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::size_t shown = lines ? i + 1 : i;
    if (lines && !parse_errors[i].empty()) {
      report.rejected.push_back(
          {{index_key, shown}, {"field", "json"}, {"reason", parse_errors[i]}});
      continue;
    }
    auto o = io::ParseObservation(items[i], patient_from_path, limits);
    if (!o.ok()) {
      report.rejected.push_back(
          {{index_key, shown}, {"field", o.error().field}, {"reason", o.error().message}});
      continue;
    }
    parsed.push_back(std::move(*o));
    parsed_index.push_back(shown);
  }
  return StoreReadings(std::move(parsed), parsed_index, index_key, std::move(report), start);
}

Result<IngestReport> TwinService::IngestObservations(std::vector<record::Observation> items) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::size_t> index(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) index[i] = i;
  return StoreReadings(std::move(items), index, "index", IngestReport{}, start);
}

Result<IngestReport> TwinService::StoreReadings(std::vector<record::Observation> parsed,
                                                const std::vector<std::size_t>& parsed_index,
                                                const char* index_key, IngestReport report,
                                                std::chrono::steady_clock::time_point start) {
  std::vector<record::Observation> accepted;
  std::vector<std::size_t> accepted_index;
  {
    std::shared_lock lock(patients_mu_);
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      const std::size_t shown = parsed_index[i];
      const auto record = patients_.find(parsed[i].patient);
      if (auto why =
              ReadingRefusal(parsed[i], record == patients_.end() ? nullptr : &record->second)) {
        report.rejected.push_back(
            {{index_key, shown}, {"field", why->first}, {"reason", why->second}});
        continue;
      }
      accepted.push_back(std::move(parsed[i]));
      accepted_index.push_back(shown);
    }
  }
  metrics_.observations_rejected += report.rejected.size();
  if (!accepted.empty()) {
    // The alert lane: the twins take the readings now, while the store commits them, so an
    // alert does not wait behind other clients' batches and the fsync. The reply still waits
    // for the commit; a resent reading is a no-op for a twin (LiveTwin::Apply), so duplicates
    // found by the store need no undoing. A failed commit answers with an error and the
    // client's retry is stored then; the twin has taken the reading once. Until a restart the
    // twin then knows readings the store does not (counted, and said on stderr without ids).
    engine_->Apply(accepted, /*publish=*/true, /*publish_observations=*/false);
    store::WriteBatchResult result;
    auto committed = store_->Commit({.observations = accepted}, &result);
    const std::vector<bool>& inserted = result.observation_inserted;
    report.stored_at = result.committed_at;
    if (!committed.ok()) {
      metrics_.observations_applied_not_stored += accepted.size();
      // The code only: a database's message may quote the row (a patient id).
      std::fprintf(stderr,
                   "medtwin serve: a commit of %zu observations failed after the twins took "
                   "them (%s)\n",
                   accepted.size(), std::string(ErrorCodeName(committed.error().code)).c_str());
      return committed.error();
    }
    const auto stored = StoredValuesOfDuplicates(*store_, accepted, inserted);
    for (std::size_t k = 0; k < accepted.size(); ++k) {
      json entry = {{index_key, accepted_index[k]}, {"duplicate", !inserted[k]}};
      // A resent reading is a duplicate; one that says something else about the same instant is
      // a conflict, and the reply says what is kept.
      if (!inserted[k]) {
        if (auto it = stored.find(k); it != stored.end() && !SameReading(it->second, accepted[k])) {
          entry["conflict"] = true;
          entry["stored"] = io::ObservationToJson(it->second);
        }
      }
      report.accepted.push_back(std::move(entry));
    }
    AfterReadingsStored(accepted, inserted);
  }
  // In item order, whichever stage refused them.
  std::stable_sort(report.rejected.begin(), report.rejected.end(),
                   [&](const json& x, const json& y) {
                     return x[index_key].get<std::size_t>() < y[index_key].get<std::size_t>();
                   });
  ++metrics_.ingest_requests;
  metrics_.ingest_us_total +=
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
  return report;
}

Result<IngestReport> TwinService::IngestEvents(const std::vector<json>& items,
                                               std::string_view patient_from_path) {
  IngestReport report;
  const io::ObservationLimits limits = LimitsNow();
  std::vector<record::Event> accepted;
  std::vector<std::size_t> index;
  {
    std::shared_lock lock(patients_mu_);
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto e = io::ParseEvent(items[i], patient_from_path, limits);
      if (e.ok() && (e->type == "ack" || e->type == "order")) {
        report.rejected.push_back(
            {{"index", i},
             {"field", "type"},
             {"reason", e->type == "ack" ? "acknowledge alerts with POST /api/v1/alerts/{id}/ack"
                                         : "accept recommendations with POST "
                                           "/api/v1/patients/{id}/recommendations/accept"}});
        continue;
      }
      if (!e.ok()) {
        report.rejected.push_back(
            {{"index", i}, {"field", e.error().field}, {"reason", e.error().message}});
        continue;
      }
      if (patients_.count(e->patient) == 0) {
        report.rejected.push_back(
            {{"index", i}, {"field", "patient"}, {"reason", "unknown patient"}});
        continue;
      }
      accepted.push_back(std::move(*e));
      index.push_back(i);
    }
  }
  if (!accepted.empty()) {
    std::vector<bool> inserted;
    MEDTWIN_TRY(std::size_t fresh, store_->AppendEvents(accepted, &inserted));
    (void)fresh;
    std::vector<record::Event> to_apply;
    for (std::size_t k = 0; k < accepted.size(); ++k) {
      report.accepted.push_back({{"index", index[k]}, {"duplicate", !inserted[k]}});
      if (inserted[k]) to_apply.push_back(std::move(accepted[k]));
    }
    engine_->ApplyEvents(std::move(to_apply));
  }
  return report;
}

Result<record::Alert> TwinService::Acknowledge(std::uint64_t alert_id, const std::string& by,
                                               const std::string& patient) {
  MEDTWIN_TRY(record::Alert alert, engine_->Acknowledge(alert_id, by, patient));
  record::Event ack;
  ack.patient = alert.patient;
  ack.type = "ack";
  ack.alert_kind = alert.kind;
  ack.alert_raised_at = alert.raised_at;
  ack.by = by;
  ack.time = LimitsNow().now;
  ack.source = "ack:" + std::to_string(alert_id);
  if (auto stored = store_->AppendEvents(std::vector<record::Event>{ack}); !stored.ok()) {
    return stored.error();
  }
  return alert;
}

namespace {

// Who accepts: the body's "by" when it is a string.
std::string AcceptedBy(const json& body) {
  auto by = body.find("by");
  return by != body.end() && by->is_string() ? by->get<std::string>() : "unknown";
}

// A number the clinician may adjust while accepting: `fallback` when the body leaves it out.
Result<double> Adjusted(const json& body, const char* key, double fallback) {
  auto it = body.find(key);
  if (it == body.end()) return fallback;
  if (!it->is_number()) return InvalidArgument(key, "a number is required");
  return it->get<double>();
}

// An order built from accepted advice or a plan: the adjustments are untrusted input, so it is
// held to the limits of any order (io::ValidateOrder); errors name the request's fields
// (`renames`: event field → request field).
Status CheckAcceptedOrder(const record::Event& order,
                          std::initializer_list<std::pair<const char*, const char*>> renames) {
  Status valid = io::ValidateOrder(order);
  if (valid.ok()) return valid;
  Error err = valid.error();
  for (const auto& [from, to] : renames) {
    if (err.field == from) err.field = to;
  }
  return err;
}

}  // namespace

void TwinService::AfterReadingsStored(const std::vector<record::Observation>& readings,
                                      const std::vector<bool>& inserted) {
  std::size_t fresh = 0;
  std::vector<const record::Observation*> measured;
  for (std::size_t k = 0; k < readings.size(); ++k) {
    if (!inserted[k]) continue;
    ++fresh;
    // The stream shows what is stored (a duplicate is not shown twice).
    if (broadcaster_->Wants(readings[k].patient)) Publish(readings[k].patient, readings[k]);
    if (IsMeasuredCovariate(readings[k])) measured.push_back(&readings[k]);
  }
  metrics_.observations_accepted += fresh;
  metrics_.observations_duplicate += readings.size() - fresh;
  if (measured.empty()) return;
  std::unique_lock lock(patients_mu_);
  for (const record::Observation* o : measured) {
    auto it = patients_.find(o->patient);
    if (it == patients_.end()) continue;
    record::PatientRecord p = it->second;
    if (!TakeMeasuredCovariate(p, *o)) continue;  // (an older measurement than the one kept)
    if (!StoreVersion(p).ok()) {
      std::fprintf(stderr, "medtwin serve: a measured covariate could not be stored\n");
      continue;
    }
    it->second = p;
    // Under the lock, as UpdatePatient does, so the engine gets the records in their order.
    engine_->UpsertPatient(std::move(p));
  }
}

Status TwinService::StoreAndApply(const std::vector<record::Event>& events) {
  if (auto stored = store_->AppendEvents(events); !stored.ok()) return stored.error();
  engine_->ApplyEvents(events);
  return Ok{};
}

void TwinService::SendOut(const std::string& patient, const char* type, const json& data) {
  if (command_listener_) command_listener_(patient, data);
  broadcaster_->Publish(patient, type, io::DumpJson(data));
}

Result<json> TwinService::AcceptRecommendation(const std::string& patient, const json& body) {
  if (!body.is_object()) return InvalidArgument("body", "must be a JSON object");
  if (body.contains("model")) {
    if (body["model"] == "glucose") {
      auto view = engine_->View(patient, /*forecast_bands=*/false);
      if (!view) return NotFound("patient", "no patient '" + patient + "'");
      return AcceptGlucosePlan(patient, view->Find<twin::GlucoseView>("glucose"), body);
    }
    if (body["model"] != "vancomycin") {
      return InvalidArgument("model", "vancomycin (the twin's dose advice) or glucose (a plan)");
    }
  }
  auto advice = engine_->Advice(patient);
  if (!advice) return NotFound("patient", "no patient '" + patient + "'");
  // Advice about to be replaced by a refit (a newer level arrived) is not accepted: the reply
  // says to come back when the twin has fitted it.
  if (advice->refitting) {
    return Error{ErrorCode::kUnavailable, "recommendation",
                 "a newer level is being fitted and the advice may change; accept it after the "
                 "refit (retry shortly)"};
  }
  if (!advice->recommendation) {
    return Error{ErrorCode::kFailedPrecondition, "recommendation",
                 "the twin has no recommendation to accept"};
  }
  const record::Recommendation& rec = *advice->recommendation;
  const io::ObservationLimits limits = LimitsNow();
  // The advice as an order, adjusted by the clinician where the body says so.
  record::Event e;
  e.patient = patient;
  e.type = "order";
  e.drug = rec.drug;
  MEDTWIN_TRY(e.amount, Adjusted(body, "dose_mg", rec.dose_mg));
  MEDTWIN_TRY(e.interval_h, Adjusted(body, "interval_h", rec.interval_h));
  MEDTWIN_TRY(e.duration_h, Adjusted(body, "infusion_h", rec.infusion_h));
  e.by = AcceptedBy(body);
  e.time = limits.now;
  e.source = "recommendation";
  MEDTWIN_RETURN_IF_ERROR(
      CheckAcceptedOrder(e, {{"amount", "dose_mg"}, {"duration_h", "infusion_h"}}));
  MEDTWIN_RETURN_IF_ERROR(StoreAndApply({e}));
  json out = io::OrderToJson(e);
  out["based_on"] = io::RecommendationToJson(rec);
  SendOut(patient, "order", out);
  return out;
}

Result<json> TwinService::AcceptGlucosePlan(const std::string& patient,
                                            const twin::GlucoseView* glucose, const json& body) {
  if (glucose == nullptr) return InvalidArgument("model", "the glucose twin has no data yet");
  if (!body.contains("bolus_u") && !body.contains("basal_u_per_h")) {
    return InvalidArgument("bolus_u",
                           "give a bolus (bolus_u, U) and/or a basal rate "
                           "(basal_u_per_h, U/h)");
  }
  const io::ObservationLimits limits = LimitsNow();
  const Instant now = limits.now;
  record::Event e;
  e.patient = patient;
  e.type = "order";
  e.drug = "insulin";
  e.dose_unit = "U";
  MEDTWIN_TRY(e.amount, Adjusted(body, "bolus_u", 0));
  MEDTWIN_TRY(e.rate, Adjusted(body, "basal_u_per_h", -1));  // -1: the basal rate stays
  if (body.contains("basal_u_per_h") && e.rate < 0) {
    return InvalidArgument("basal_u_per_h", "0–40 U/h (leave it out to keep the current rate)");
  }
  e.by = AcceptedBy(body);
  e.time = now;
  e.source = "whatif";
  MEDTWIN_RETURN_IF_ERROR(
      CheckAcceptedOrder(e, {{"amount", "bolus_u"}, {"rate", "basal_u_per_h"}}));
  std::vector<record::Event> events = {e};
  // In a closed loop the accepted plan goes to the pump at once and the twin takes it as
  // delivered (stored as insulin and basal events, so a restart replays it); otherwise it
  // waits as a draft order for a person to give it.
  const bool closed_loop = !glucose->closed_loop.empty();
  json command;
  if (closed_loop) {
    command = {{"kind", "insulin"},          {"patient", patient},  {"source", "clinician"},
               {"time", FormatRfc3339(now)}, {"accepted_by", e.by}, {"valid_for_min", 15}};
    // What the pump is told, as the twin's own input events.
    auto delivered = [&](const char* type, double amount, double rate) {
      record::Event d;
      d.patient = patient;
      d.type = type;
      d.amount = amount;
      d.rate = rate;
      d.time = now;
      d.source = std::string("whatif-") + type;
      events.push_back(std::move(d));
    };
    if (body.contains("bolus_u") && e.amount > 0) {
      delivered("insulin", e.amount, 0);
      command["bolus_u"] = e.amount;
    }
    if (body.contains("basal_u_per_h")) {
      delivered("basal", 0, e.rate);
      command["basal_u_per_h"] = e.rate;
    }
  }
  MEDTWIN_RETURN_IF_ERROR(StoreAndApply(events));
  json out = io::OrderToJson(e);
  if (closed_loop) {
    out["command"] = command;
    SendOut(patient, "command", command);
  }
  SendOut(patient, "order", out);
  return out;
}

Result<store::ObservationPage> TwinService::History(const store::ObservationQuery& q) {
  if (!Patient(q.patient)) return NotFound("patient", "no patient '" + q.patient + "'");
  return store_->QueryObservations(q);
}

std::string TwinService::MetricsText() {
  auto line = [](std::string& out, const char* name, const char* type, const char* help,
                 double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + buf + "\n";
  };
  std::string out;
  line(out, "medtwin_observations_accepted_total", "counter", "Observations stored and applied.",
       static_cast<double>(metrics_.observations_accepted.load()));
  line(out, "medtwin_observations_duplicate_total", "counter", "Observations already stored.",
       static_cast<double>(metrics_.observations_duplicate.load()));
  line(out, "medtwin_observations_rejected_total", "counter", "Observations refused as invalid.",
       static_cast<double>(metrics_.observations_rejected.load()));
  line(out, "medtwin_observations_applied_not_stored_total", "counter",
       "Observations the twins took whose commit then failed (twins ahead of the store).",
       static_cast<double>(metrics_.observations_applied_not_stored.load()));
  line(out, "medtwin_ingest_requests_total", "counter", "Ingest calls.",
       static_cast<double>(metrics_.ingest_requests.load()));
  line(out, "medtwin_ingest_seconds_total", "counter", "Time spent in ingest calls.",
       static_cast<double>(metrics_.ingest_us_total.load()) / 1e6);
  line(out, "medtwin_http_requests_total", "counter", "HTTP requests served.",
       static_cast<double>(metrics_.http_requests.load()));
  line(out, "medtwin_alert_events_total", "counter", "Alert events published.",
       static_cast<double>(alerts_published_.load()));
  line(out, "medtwin_twins", "gauge", "Live twins.", static_cast<double>(engine_->TwinCount()));
  line(out, "medtwin_twin_queue_depth", "gauge", "Tasks waiting in the shards' queues.",
       static_cast<double>(engine_->QueueDepth()));
  line(out, "medtwin_drug_refits_in_flight", "gauge",
       "Drug-twin refits queued or running on the fit workers.",
       static_cast<double>(engine_->DrugFitsInFlight()));
  line(out, "medtwin_live_clients", "gauge", "Open live streams.",
       static_cast<double>(broadcaster_->Count()));
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (statm >> pages_total >> pages_resident) {
    line(out, "process_resident_memory_bytes", "gauge", "Resident memory.",
         static_cast<double>(pages_resident) * 4096.0);
  }
  return out;
}

}  // namespace medtwin::server
