#include "medtwin/server/hl7_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "medtwin/core/text.h"
#include "medtwin/hl7/ack.h"
#include "medtwin/hl7/adt.h"
#include "medtwin/hl7/message.h"
#include "medtwin/hl7/mllp.h"

namespace medtwin::server {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxSenders = 1000;

Result<std::vector<std::string>> StringList(const json& s, const char* key,
                                            const std::string& where) {
  std::vector<std::string> out;
  auto it = s.find(key);
  if (it == s.end()) return out;
  if (!it->is_array()) return InvalidArgument(where + "." + key, "must be an array of strings");
  for (const json& v : *it) {
    if (!v.is_string()) return InvalidArgument(where + "." + key, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// The segment, sequence and field of an error's position ("OBX[3]-5", "PID-3", "MSH-9: time").
hl7::AckError ErrorAt(const Error& e, hl7::ErrorCondition condition, char severity = 'E') {
  hl7::AckError out;
  out.condition = condition;
  out.severity = severity;
  out.message = e.ToString();
  const std::string& f = e.field;
  if (f.size() >= 3 && std::all_of(f.begin(), f.begin() + 3, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      })) {
    out.segment = f.substr(0, 3);
    std::size_t pos = 3;
    if (pos < f.size() && f[pos] == '[') {
      std::size_t close = f.find(']', pos);
      if (close != std::string::npos) {
        out.sequence = static_cast<int>(ParseInt64(f.substr(pos + 1, close - pos - 1)).value_or(0));
        pos = close + 1;
      }
    }
    if (pos < f.size() && f[pos] == '-') {
      std::size_t end = pos + 1;
      while (end < f.size() && f[end] >= '0' && f[end] <= '9') ++end;
      out.field = static_cast<int>(ParseInt64(f.substr(pos + 1, end - pos - 1)).value_or(0));
    }
  }
  return out;
}

// The OBX field an ingest rejection names.
int ObxField(const std::string& field) {
  if (field == "value") return 5;
  if (field == "unit") return 6;
  if (field == "time") return 14;
  if (field == "code") return 3;
  return 0;
}

std::int64_t NowUs() { return WallClockNow().us_since_epoch; }

}  // namespace

Result<std::vector<Hl7Sender>> ParseHl7Senders(const json& j) {
  if (!j.is_object() || !j.contains("senders") || !j["senders"].is_array()) {
    return InvalidArgument("senders", "{\"senders\": [{\"facility\": …}, …]} expected");
  }
  std::vector<Hl7Sender> out;
  std::set<std::string> seen;
  if (j["senders"].size() > kMaxSenders) {
    return InvalidArgument("senders", "at most " + std::to_string(kMaxSenders));
  }
  for (std::size_t i = 0; i < j["senders"].size(); ++i) {
    const json& s = j["senders"][i];
    const std::string where = "senders[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgument(where, "must be an object");
    static const char* kKnown[] = {"facility",           "patients",  "ward",
                                   "all_patients",       "adt",       "addresses",
                                   "identifier_systems", "utc_offset"};
    for (const auto& item : s.items()) {
      if (std::none_of(std::begin(kKnown), std::end(kKnown),
                       [&](const char* k) { return item.key() == k; })) {
        return InvalidArgument(where + "." + item.key().substr(0, 40), "unknown member");
      }
    }
    Hl7Sender sender;
    if (!s.contains("facility") || !s["facility"].is_string() ||
        s["facility"].get<std::string>().empty()) {
      return InvalidArgument(where + ".facility", "the sending facility (MSH-4) is required");
    }
    sender.facility = s["facility"].get<std::string>();
    MEDTWIN_RETURN_IF_ERROR(ValidateText(sender.facility, where + ".facility", 64));
    if (!seen.insert(sender.facility).second) {
      return InvalidArgument(where + ".facility", "'" + sender.facility + "' is listed twice");
    }
    MEDTWIN_TRY(sender.patients, StringList(s, "patients", where));
    for (const auto& p : sender.patients) {
      MEDTWIN_RETURN_IF_ERROR(ValidateId(p, where + ".patients"));
    }
    MEDTWIN_TRY(sender.addresses, StringList(s, "addresses", where));
    if (s.contains("ward")) {
      if (!s["ward"].is_string()) return InvalidArgument(where + ".ward", "must be a string");
      sender.ward = s["ward"].get<std::string>();
    }
    for (const char* flag : {"all_patients", "adt"}) {
      if (!s.contains(flag)) continue;
      if (!s[flag].is_boolean()) return InvalidArgument(where + "." + flag, "true or false");
      (std::string(flag) == "adt" ? sender.adt : sender.all_patients) = s[flag].get<bool>();
    }
    if (sender.adt && !sender.all_patients) {
      // Admitting, moving and registering patients is the EHR's (its interface engine's): a
      // gateway bound to a ward could otherwise move any patient into its ward and then write
      // them.
      return InvalidArgument(where + ".adt", "needs all_patients (ADT comes from the EHR)");
    }
    if (sender.patients.empty() && sender.ward.empty() && !sender.all_patients) {
      return InvalidArgument(where,
                             "say which patients it may write: patients, ward or "
                             "all_patients");
    }
    if (s.contains("identifier_systems")) {
      const json& m = s["identifier_systems"];
      if (!m.is_object()) {
        return InvalidArgument(where + ".identifier_systems",
                               "an object of assigning authority → identifier system");
      }
      for (const auto& [authority, system] : m.items()) {
        if (!system.is_string()) {
          return InvalidArgument(where + ".identifier_systems." + authority, "must be a string");
        }
        sender.identifiers.systems.emplace_back(authority, system.get<std::string>());
      }
    }
    if (s.contains("utc_offset")) {
      if (!s["utc_offset"].is_string()) {
        return InvalidArgument(where + ".utc_offset", "an offset such as \"+0100\"");
      }
      auto offset = hl7::ParseUtcOffset(s["utc_offset"].get<std::string>());
      if (!offset) return InvalidArgument(where + ".utc_offset", "an offset such as \"+0100\"");
      sender.identifiers.utc_offset_min = *offset;
    }
    out.push_back(std::move(sender));
  }
  return out;
}

std::string Hl7Feed::NextControlId() { return "MT" + std::to_string(next_id_.fetch_add(1)); }

std::string Hl7Feed::Unreadable(hl7::AckError error, Hl7Refusals& refusals) {
  rejected.fetch_add(1);
  ++refusals.unreadable;
  return hl7::BuildAck(nullptr, hl7::AckCode::kReject, {std::move(error)}, WallClockNow(),
                       NextControlId());
}

std::string Hl7Feed::FramingError(const std::string& why, Hl7Refusals& refusals) {
  return Unreadable({"", 0, 0, hl7::ErrorCondition::kSegmentSequence, why, 'E'}, refusals);
}

std::string Hl7Feed::Handle(std::string_view frame, const std::string& peer,
                            Hl7Refusals& refusals) {
  // Nothing a message does may end the connection's thread (and with it the server): an
  // unexpected failure is answered AR (resend) and counted.
  try {
    return HandleFrame(frame, peer, refusals);
  } catch (const std::exception&) {
    return Unreadable({"", 0, 0, hl7::ErrorCondition::kInternal,
                       "the message could not be handled; resend it", 'E'},
                      refusals);
  }
}

std::string Hl7Feed::HandleFrame(std::string_view frame, const std::string& peer,
                                 Hl7Refusals& refusals) {
  std::string_view batch_control_id;
  auto messages = hl7::SplitBatch(frame, &batch_control_id);
  if (!messages.ok()) {
    return Unreadable(ErrorAt(messages.error(), hl7::ErrorCondition::kSegmentSequence), refusals);
  }
  if (messages->size() == 1) return HandleMessage(messages->front(), peer, refusals);
  // A batch is answered with a batch of ACKs, one per message, in order; BHS-11 names the
  // batch answered (its BHS-10), so a sender with several batches in flight can match them.
  std::string out = "BHS|^~\\&|MEDTWIN||||" + hl7::FormatDtm(WallClockNow()) + "||||" +
                    hl7::Escape(batch_control_id.substr(0, 64), hl7::Delimiters{});
  out += "\r";
  for (std::string_view m : *messages) out += HandleMessage(m, peer, refusals);
  out += "BTS|" + std::to_string(messages->size()) + "\r";
  return out;
}

namespace {

// Everything one message needs while it is handled.
struct Handling {
  TwinService& service;
  const hl7::Message& message;
  const Hl7Sender& sender;
  std::vector<hl7::AckError> errors;  // E and W
  bool reject = false;                // AR: not taken at all
  int audit_outcome = 200;
  std::set<std::string> patients;          // whose data the message wrote
  std::set<std::string> refused_patients;  // whose data it tried to write and may not
  std::string created_patient;             // registered by this message (ADT)

  void Fail(const Error& e, hl7::ErrorCondition c, bool not_taken = false) {
    errors.push_back(ErrorAt(e, c));
    reject = reject || not_taken;
  }

  // The patient PID-3 names: exactly one patient must hold one of the identifiers.
  Result<std::string> Resolve(const std::vector<record::Identifier>& identifiers,
                              const std::string& field) {
    std::set<std::string> found;
    for (const auto& id : identifiers) {
      if (id.system == hl7::kMedtwinIdSystem) {
        if (service.Patient(id.value)) found.insert(id.value);
        continue;
      }
      for (const auto& p : service.PatientsWithIdentifier(id)) found.insert(p.id);
    }
    if (found.empty()) {
      return Error{ErrorCode::kNotFound, field, "no patient holds these identifiers"};
    }
    if (found.size() > 1) {
      return Error{ErrorCode::kAlreadyExists, field,
                   "the identifiers name " + std::to_string(found.size()) + " different patients"};
    }
    return *found.begin();
  }

  // By the patient's current bed only (never one the message itself names).
  [[nodiscard]] bool Allowed(const std::string& patient) const {
    if (sender.all_patients) return true;
    if (std::find(sender.patients.begin(), sender.patients.end(), patient) !=
        sender.patients.end()) {
      return true;
    }
    if (sender.ward.empty()) return false;
    auto p = service.Patient(patient);
    if (!p) return false;
    const record::EncounterLocation* place = record::CurrentPlace(p->encounters);
    return place != nullptr && place->bed.ward == sender.ward;
  }

  void Oru() {
    auto content = hl7::ReadOru(message, sender.identifiers);
    if (!content.ok()) {
      Fail(content.error(), hl7::ErrorCondition::kDataType);
      return;
    }
    errors = content->issues;
    std::vector<json> items;
    std::vector<int> obx_of_item;
    for (std::size_t g = 0; g < content->patients.size(); ++g) {
      const hl7::OruPatient& group = content->patients[g];
      const std::string pid_field = "PID[" + std::to_string(g + 1) + "]-3";
      auto patient = Resolve(group.identifiers, pid_field);
      // A sender bound to some patients learns nothing about others: an unknown identifier and
      // one of a patient it may not write get the same answer.
      if (!sender.all_patients && (!patient.ok() || !Allowed(*patient))) {
        if (patient.ok()) {
          refused_patients.insert(*patient);
          audit_outcome = 403;
        }
        Fail(Error{ErrorCode::kNotFound, pid_field,
                   "no patient this sender may write holds these identifiers"},
             hl7::ErrorCondition::kUnknownKey);
        continue;
      }
      if (!patient.ok()) {
        Fail(patient.error(), patient.error().code == ErrorCode::kNotFound
                                  ? hl7::ErrorCondition::kUnknownKey
                                  : hl7::ErrorCondition::kDuplicateKey);
        continue;
      }
      for (const hl7::Hl7Observation& o : group.observations) {
        json item = {{"patient", *patient},
                     {"code", o.code},
                     {"time", FormatRfc3339(o.time)},
                     {"source", o.source}};
        if (o.numeric) {
          item["value"] = *ParseDouble(o.value);
          item["unit"] = o.unit;
        } else {
          item["value"] = o.value;
        }
        items.push_back(std::move(item));
        obx_of_item.push_back(o.obx);
        patients.insert(*patient);
      }
    }
    if (items.empty()) return;
    auto report = service.Ingest(items, "");
    if (!report.ok()) {
      Fail(Error{ErrorCode::kUnavailable, "",
                 "not stored: " + report.error().ToString() + " (resend)"},
           hl7::ErrorCondition::kInternal, true);
      audit_outcome = 503;
      return;
    }
    // A reading that says something else than the one stored for its time and device: not
    // stored (the first stays), and the sender must hear it.
    for (const json& a : report->accepted) {
      if (!a.value("conflict", false)) continue;
      hl7::AckError e;
      e.segment = "OBX";
      e.sequence = obx_of_item[a["index"].get<std::size_t>()];
      e.field = 5;
      e.condition = hl7::ErrorCondition::kDuplicateKey;
      e.message = "another value is stored for this time and device; not replaced";
      errors.push_back(std::move(e));
    }
    for (const json& r : report->rejected) {
      const auto k = r["index"].get<std::size_t>();
      hl7::AckError e;
      e.segment = "OBX";
      e.sequence = obx_of_item[k];
      e.field = ObxField(r.value("field", ""));
      e.condition = hl7::ErrorCondition::kDataType;
      e.message = r.value("field", "") + ": " + r.value("reason", "");
      errors.push_back(std::move(e));
    }
  }

  void Adt() {
    if (!sender.adt) {
      Fail(Error{ErrorCode::kPermissionDenied, "MSH-4",
                 "sending facility '" + sender.facility + "' may not send ADT"},
           hl7::ErrorCondition::kRecordLocked, true);
      audit_outcome = 403;
      return;
    }
    auto adt = hl7::ReadAdt(message, sender.identifiers);
    if (!adt.ok()) {
      const bool unsupported = adt.error().code == ErrorCode::kUnimplemented;
      Fail(adt.error(),
           unsupported ? hl7::ErrorCondition::kUnsupportedEvent : hl7::ErrorCondition::kDataType,
           unsupported);
      return;
    }
    auto patient = Resolve(adt->identifiers, "PID-3");
    std::string id;
    const bool names_medtwin_id =
        std::any_of(adt->identifiers.begin(), adt->identifiers.end(),
                    [](const record::Identifier& i) { return i.system == hl7::kMedtwinIdSystem; });
    if (patient.ok()) {
      id = *patient;  // (ADT senders may write every patient: ParseHl7Senders)
    } else if (patient.error().code == ErrorCode::kNotFound &&
               adt->event == hl7::AdtEvent::kAdmit && !names_medtwin_id) {
      // A patient medtwin has not seen, admitted: registered from PID, with an id of the
      // server's making (a sender does not choose medtwin's ids).
      json body = {{"id", NewPatientId()}, {"identifiers", json::array()}};
      for (const auto& i : adt->identifiers) {
        body["identifiers"].push_back({{"system", i.system}, {"value", i.value}});
      }
      auto created = service.CreatePatient(body);
      if (!created.ok()) {
        Fail(created.error().WithContext("PID"), hl7::ErrorCondition::kDataType);
        return;
      }
      id = created->id;
      created_patient = id;
    } else {
      Fail(patient.error(), patient.error().code == ErrorCode::kNotFound
                                ? hl7::ErrorCondition::kUnknownKey
                                : hl7::ErrorCondition::kDuplicateKey);
      return;
    }
    // The ward, room and bed the patient is put in become Locations when new (a census
    // needs no set-up).
    if (!adt->bed.empty()) {
      if (auto made = service.locations().EnsureBed(adt->bed); !made.ok()) {
        Fail(made.error(), hl7::ErrorCondition::kInternal, true);
        audit_outcome = 503;
        return;
      }
    }
    const std::string encounter_id = "e-" + NewPatientId().substr(2);
    auto changed = service.ChangePatient(id, std::nullopt, [&](record::PatientRecord& p) -> Status {
      if (!adt->name.empty()) p.name = adt->name;
      if (adt->birth_date) p.birth_date = adt->birth_date;
      if (!adt->sex.empty()) p.sex = adt->sex;
      MEDTWIN_TRY(p.encounters, hl7::ApplyAdt(std::move(p.encounters), *adt, encounter_id));
      return Ok{};
    });
    if (!changed.ok()) {
      const bool store = changed.error().code == ErrorCode::kIoError ||
                         changed.error().code == ErrorCode::kUnavailable;
      Fail(changed.error(), store ? hl7::ErrorCondition::kInternal : hl7::ErrorCondition::kDataType,
           store);
      if (store) audit_outcome = 503;
      return;
    }
    patients.insert(id);
  }
};

}  // namespace

std::string Hl7Feed::HandleMessage(std::string_view text, const std::string& peer,
                                   Hl7Refusals& refusals) {
  auto parsed = hl7::Message::Parse(text);
  if (!parsed.ok())
    return Unreadable(ErrorAt(parsed.error(), hl7::ErrorCondition::kDataType), refusals);
  const hl7::Message& m = *parsed;
  const std::string facility = m.msh().Get(4, 1);
  auto reject = [&](const std::string& field, hl7::ErrorCondition c, const std::string& why) {
    rejected.fetch_add(1);
    return hl7::BuildAck(&m, hl7::AckCode::kReject,
                         {ErrorAt(Error{ErrorCode::kInvalidArgument, field, why}, c)},
                         WallClockNow(), NextControlId());
  };
  const Hl7Sender* sender = nullptr;
  for (const Hl7Sender& s : senders_) {
    if (s.facility == facility) sender = &s;
  }
  security::AuditEntry audit;
  audit.time_us = NowUs();
  audit.who = "hl7:" + (sender != nullptr ? sender->facility : std::string("unknown"));
  audit.role = "device";
  audit.action = "HL7 " + Printable(m.type(), 8) + "^" + Printable(m.trigger(), 8);
  audit.from = peer;
  if (sender == nullptr ||
      (!sender->addresses.empty() && std::find(sender->addresses.begin(), sender->addresses.end(),
                                               peer) == sender->addresses.end())) {
    // Recorded per connection with a count (AuditRefusals), so a flood of them cannot flood
    // the ledger.
    ++refusals.unknown_sender;
    return reject("MSH-4", hl7::ErrorCondition::kRecordLocked,
                  sender == nullptr
                      ? "sending facility '" + Printable(facility, 32) +
                            "' is not one medtwin takes messages from (--hl7-senders)"
                      : "sending facility '" + facility + "' may not connect from this address");
  }
  Handling h{service_, m, *sender, {}, false, 200, {}, {}, {}};
  if (m.type() == "ORU" && m.trigger() == "R01") {
    audit.resource = "Observation";
    audit.interaction = 'c';
    h.Oru();
  } else if (m.type() == "ADT") {
    audit.resource = "Encounter";
    audit.interaction = 'u';
    h.Adt();
  } else {
    audit.resource = "Message";
    audit.outcome = 400;
    service_.Audit(audit);
    return reject("MSH-9", hl7::ErrorCondition::kUnsupportedMessageType,
                  Printable(m.type(), 8) + "^" + Printable(m.trigger(), 8) +
                      " is not taken (ORU^R01 and ADT A01/A02/A03/A04/A08 are)");
  }
  const bool any_error = std::any_of(h.errors.begin(), h.errors.end(),
                                     [](const hl7::AckError& e) { return e.severity == 'E'; });
  const hl7::AckCode code = h.reject    ? hl7::AckCode::kReject
                            : any_error ? hl7::AckCode::kError
                                        : hl7::AckCode::kAccept;
  (code == hl7::AckCode::kAccept  ? accepted
   : code == hl7::AckCode::kError ? errors
                                  : rejected)
      .fetch_add(1);
  if (!h.created_patient.empty()) {  // a registration is a create of its own in the trail
    security::AuditEntry created = audit;
    created.resource = "Patient";
    created.interaction = 'c';
    created.patients = {h.created_patient};
    created.outcome = 201;
    service_.Audit(std::move(created));
  }
  audit.patients.assign(h.patients.begin(), h.patients.end());
  audit.patients.insert(audit.patients.end(), h.refused_patients.begin(), h.refused_patients.end());
  audit.outcome = h.audit_outcome != 200 ? h.audit_outcome : any_error ? 400 : 200;
  service_.Audit(std::move(audit));
  return hl7::BuildAck(&m, code, h.errors, WallClockNow(), NextControlId());
}

void Hl7Feed::AuditRefusals(const std::string& peer, Hl7Refusals& refusals) {
  auto record = [&](std::uint64_t& count, const char* action, int outcome) {
    if (count == 0) return;
    security::AuditEntry e;
    e.time_us = NowUs();
    e.who = "hl7:unknown";
    e.role = "device";
    e.action = action;
    e.resource = "Message";
    e.interaction = 'c';
    e.outcome = outcome;
    e.from = peer;
    e.count = count;
    service_.Audit(std::move(e));
    count = 0;
  };
  record(refusals.unreadable, "HL7 unreadable (framing, batch or message)", 400);
  record(refusals.unknown_sender, "HL7 from a sender not in --hl7-senders (or its address)", 401);
}

// --- sockets ---

Result<std::unique_ptr<Hl7Listener>> Hl7Listener::Start(const std::string& host_port,
                                                        TwinService& service, Hl7Options options) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("--hl7", "HOST:PORT expected");
  const std::string host = host_port.substr(0, colon);
  auto port = ParsePort(host_port.substr(colon + 1));
  if (!port) return InvalidArgument("--hl7", "the port must be 0–65535");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service_name = std::to_string(*port);
  if (int rc = getaddrinfo(host.c_str(), service_name.c_str(), &hints, &found); rc != 0) {
    return InvalidArgument("--hl7", "cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  std::unique_ptr<Hl7Listener> l(new Hl7Listener(service, std::move(options)));
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    const std::string why = std::strerror(errno);
    freeaddrinfo(found);
    if (fd >= 0) close(fd);
    return Error{ErrorCode::kIoError, "--hl7", "cannot listen on " + host_port + ": " + why};
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  l->port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  l->listen_fd_ = fd;
  l->acceptor_ = std::thread([listener = l.get()] { listener->AcceptLoop(); });
  return l;
}

Hl7Listener::~Hl7Listener() { Stop(); }

void Hl7Listener::Stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  std::unique_lock lock(mu_);
  // Both ways: a reader blocked in recv and a writer blocked on a peer that does not read wake.
  // (A message being handled is finished first: its ACK may then not reach the sender, which
  // resends; the store recognises the duplicates.)
  for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  idle_.wait(lock, [&] { return active_ == 0; });
}

void Hl7Listener::AcceptLoop() {
  // When every sender names the addresses it sends from, nobody else gets a connection.
  const bool known_addresses_only =
      !options_.senders.empty() &&
      std::all_of(options_.senders.begin(), options_.senders.end(),
                  [](const Hl7Sender& s) { return !s.addresses.empty(); });
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    char address[INET6_ADDRSTRLEN] = "";
    if (from.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr, address, sizeof address);
    } else if (from.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr, address,
                sizeof address);
    }
    const std::string peer(address);
    if (known_addresses_only &&
        std::none_of(options_.senders.begin(), options_.senders.end(), [&](const Hl7Sender& s) {
          return std::find(s.addresses.begin(), s.addresses.end(), peer) != s.addresses.end();
        })) {
      Hl7Refusals refused;
      refused.unknown_sender = 1;
      feed_.AuditRefusals(peer, refused);
      close(fd);
      continue;
    }
    std::unique_lock lock(mu_);
    if (active_ >= options_.max_connections ||
        per_address_[peer] >= options_.max_connections_per_address) {
      lock.unlock();
      Hl7Refusals ignored;
      const std::string ack =
          hl7::MllpFrame(feed_.FramingError("too many connections: retry later", ignored));
      (void)send(fd, ack.data(), ack.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
      continue;
    }
    ++active_;
    ++per_address_[peer];
    open_fds_.push_back(fd);
    std::thread([this, fd, peer] { Serve(fd, peer); }).detach();
  }
}

void Hl7Listener::Serve(int fd, std::string peer) {
  // Reads wake at least every second, so idle and frame deadlines are kept whatever the peer
  // sends (a byte a minute does not keep a frame open for ever).
  timeval tick{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  timeval send_timeout{10, 0};  // a reader that does not read its ACK is let go
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  using Clock = std::chrono::steady_clock;
  auto last_byte = Clock::now();
  Clock::time_point frame_began{};  // when the frame being received began
  bool in_frame = false;
  auto last_audit = Clock::now();
  Hl7Refusals refusals;
  hl7::MllpDecoder decoder(options_.max_frame_bytes);
  std::vector<hl7::MllpItem> items;
  char buf[16384];
  bool open = true;
  auto reply = [&](const std::string& ack) {
    const std::string framed = hl7::MllpFrame(ack);
    std::size_t sent = 0;
    while (sent < framed.size()) {
      const ssize_t w = send(fd, framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL);
      if (w <= 0) return false;
      sent += static_cast<std::size_t>(w);
    }
    return true;
  };
  while (open && !stopping_.load()) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    const auto now = Clock::now();
    if (now - last_audit > std::chrono::seconds(60)) {
      feed_.AuditRefusals(peer, refusals);
      last_audit = now;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (in_frame && now - frame_began > options_.frame_timeout) {
        (void)reply(feed_.FramingError(
            "the frame did not end within " + std::to_string(options_.frame_timeout.count()) + " s",
            refusals));
        break;
      }
      if (now - last_byte > options_.idle_timeout) break;
      continue;
    }
    if (n <= 0) break;  // closed by the peer, or stopping
    last_byte = now;
    items.clear();
    decoder.Feed(std::string_view(buf, static_cast<std::size_t>(n)), items);
    for (const hl7::MllpItem& item : items) {
      const std::string ack = item.error ? feed_.FramingError(item.text, refusals)
                                         : feed_.Handle(item.text, peer, refusals);
      if (!reply(ack)) {
        open = false;
        break;
      }
    }
    if (!decoder.InFrame()) {
      in_frame = false;
    } else if (!in_frame || !items.empty()) {
      // A frame began in these bytes (after any that ended in them: a sender that pipelines
      // frames back to back is never "in one frame" for long).
      in_frame = true;
      frame_began = now;
    } else if (now - frame_began > options_.frame_timeout) {
      (void)reply(feed_.FramingError(
          "the frame did not end within " + std::to_string(options_.frame_timeout.count()) + " s",
          refusals));
      break;
    }
  }
  feed_.AuditRefusals(peer, refusals);
  std::unique_lock lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  if (--per_address_[peer] <= 0) per_address_.erase(peer);
  close(fd);
  --active_;
  idle_.notify_all();
}

}  // namespace medtwin::server
