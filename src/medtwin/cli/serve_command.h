// cli/serve_command.h — `medtwin serve`: the twin server (REST API, live stream, metrics) on an
// embedded SQLite store or PostgreSQL, optionally with the built-in demo of virtual patients.
// Runs until SIGINT/SIGTERM; shutdown drains the twins' queues.
#pragma once

#include <string>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string store = "sqlite:medtwin.db";
  std::string mqtt;  // mqtt://host:port: subscribe medtwin/obs/+, publish acks and alerts
  bool demo = false;
  double speed = 60;
  int shards = 2;
  // Four, not one per core: a handler waits for the commit of its batch, and a small request
  // (one observation) should find a free thread while bulk batches wait (observation → alert
  // p99 at 50,000 obs/s and 1,000 twins: ~33 ms with 2 threads, ~22 ms with 4; docs/benchmarks).
  int http_threads = 4;
  std::size_t body_limit_mb = 16;
  int read_timeout_s = 30;         // a request not received within this gets 408
  std::string auth_key;            // signing key file for bearer tokens (required unless --demo)
  double rate_limit = 1000;        // requests per second per token
  double auth_failure_limit = 10;  // failed authentications per second per client address
  std::string data_key;            // key ring file for identifiers at rest (or $MEDTWIN_DATA_KEY)
  std::string tls_cert, tls_key;   // HTTPS
  std::string public_url;          // how clients reach the server (FHIR fullUrls, links)
  std::string mqtt_ca;             // CA file for mqtts://
  bool allow_anonymous_mqtt = false;  // a loopback broker without credentials
  std::string hl7;                    // HOST:PORT for HL7 v2 over MLLP; "" off
  std::string hl7_senders;            // the senders file (who may send what)
  int hl7_frame_timeout_s = 60;       // a frame begun must end within this
  std::string audit_key;              // Ed25519 seed file signing the audit tree heads
  int research_min_k = 5;             // the least k researchers may ask for
  bool unsafe_no_security = false;    // benchmarks: no tokens, no audit (loopback only)
};

[[nodiscard]] Status RunServe(const ServeArgs& args);

// Adds `medtwin serve`.
void AddServeCommand(CLI::App& app);

}  // namespace medtwin::cli
