// server/hl7_listener.h — HL7 v2 over MLLP, as bedside monitor gateways and the EHR's interface
// engine send it (`medtwin serve --hl7 HOST:PORT --hl7-senders senders.json`). ORU^R01 vital
// signs go through the same ingest as HTTP (validated, stored, applied to the twins); ADT
// A01/A02/A03/A04/A08 create or update the patient and their encounter and bed. Every message
// is answered with an ACK only after the store committed: AA stored, AE something in the
// message was wrong (ERR says which OBX and field; what was right is stored), AR not taken
// (unknown sender, unsupported message, the store failed: resend).
//
// Who may send: each sending facility (MSH-4) is an identity of its own, bound in the senders
// file to the patients it may write (listed, or those whose current bed is on its ward), to
// the addresses it connects from, and to whether it may send ADT. MSH-4 is a claim the sender
// makes, so a facility without `addresses` is only as trusted as the network that reaches the
// port (when every sender lists addresses, others are refused at connect). Everything is audited
// as "hl7:FACILITY"; refusals before a sender is known, per connection with a count.
// Against slow or hostile clients: frames are bounded in size and in time (a frame begun must
// end within frame_timeout), connections per address are bounded, and nothing a message holds
// can end a connection's thread.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/hl7/vitals.h"
#include "medtwin/server/service.h"

namespace medtwin::server {

struct Hl7Sender {
  std::string facility;                // MSH-4.1
  std::vector<std::string> patients;   // patient ids it may write
  std::string ward;                    // or: patients whose current bed is on this ward (PV1-3.1)
  bool all_patients = false;           // an interface engine: every patient
  bool adt = false;                    // may admit, transfer, discharge and create patients
  std::vector<std::string> addresses;  // peer IP addresses it may connect from (empty: any)
  hl7::IdentifierPolicy identifiers;
};

// The senders file: {"senders": [{"facility": "ICU_GW", "ward": "ICU", "addresses":
// ["10.1.2.3"]}, {"facility": "EHR", "all_patients": true, "adt": true, "identifier_systems":
// {"HOSP": "http://hospital.example/mrn"}, "utc_offset": "+0100"}]}. Errors name the field.
[[nodiscard]] Result<std::vector<Hl7Sender>> ParseHl7Senders(const nlohmann::json& j);

struct Hl7Options {
  std::vector<Hl7Sender> senders;
  std::size_t max_frame_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{300};  // a connection silent this long is closed
  std::chrono::seconds frame_timeout{60};  // a frame begun must end within this (slow senders)
  int max_connections = 64;
  int max_connections_per_address = 8;
};

// Messages refused before anyone could be named (unreadable bytes, an unknown sending
// facility), counted per connection and recorded in the audit trail as one entry with a count.
struct Hl7Refusals {
  std::uint64_t unreadable = 0;
  std::uint64_t unknown_sender = 0;
};

// What a message does to the twins, without the socket: one MLLP frame in, the ACK out.
class Hl7Feed {
 public:
  Hl7Feed(TwinService& service, std::vector<Hl7Sender> senders)
      : service_(service), senders_(std::move(senders)) {}
  // The answer to `frame` (one message or a batch) from `peer` (an IP address). Never throws.
  [[nodiscard]] std::string Handle(std::string_view frame, const std::string& peer,
                                   Hl7Refusals& refusals);
  // The answer to bytes that were not a frame (`why`): an AR nobody's message id.
  [[nodiscard]] std::string FramingError(const std::string& why, Hl7Refusals& refusals);
  // Records what `refusals` counted (one audit entry per kind, with its count) and resets it.
  void AuditRefusals(const std::string& peer, Hl7Refusals& refusals);
  std::atomic<std::uint64_t> accepted{0}, errors{0}, rejected{0};

 private:
  std::string HandleFrame(std::string_view frame, const std::string& peer, Hl7Refusals& refusals);
  // An AR to bytes nobody's message could be read from (counted as unreadable).
  std::string Unreadable(hl7::AckError error, Hl7Refusals& refusals);
  std::string HandleMessage(std::string_view text, const std::string& peer, Hl7Refusals& refusals);
  std::string NextControlId();
  TwinService& service_;
  std::vector<Hl7Sender> senders_;
  std::atomic<std::uint64_t> next_id_{1};
};

class Hl7Listener {
 public:
  // Listens on HOST:PORT (port 0: any free port; port() says which).
  static Result<std::unique_ptr<Hl7Listener>> Start(const std::string& host_port,
                                                    TwinService& service, Hl7Options options);
  ~Hl7Listener();
  // Stops accepting, closes every connection (a message being handled is finished and
  // answered first). Idempotent.
  void Stop();
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] Hl7Feed& feed() { return feed_; }

 private:
  Hl7Listener(TwinService& service, Hl7Options options)
      : options_(std::move(options)), feed_(service, options_.senders) {}
  void AcceptLoop();
  void Serve(int fd, std::string peer);

  Hl7Options options_;
  Hl7Feed feed_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;            // signalled as connections end
  std::vector<int> open_fds_;               // under mu_
  int active_ = 0;                          // connection threads running, under mu_
  std::map<std::string, int> per_address_;  // open connections by peer address, under mu_
};

}  // namespace medtwin::server
