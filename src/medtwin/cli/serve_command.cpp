#include "medtwin/cli/serve_command.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "medtwin/cli/command.h"
#include "medtwin/cli/demo_devices.h"
#include "medtwin/core/text.h"
#include "medtwin/io/json_input.h"
#include "medtwin/security/audit.h"
#include "medtwin/security/token.h"
#include "medtwin/server/audit_log.h"
#include "medtwin/server/hl7_listener.h"
#include "medtwin/server/http_server.h"
#include "medtwin/server/mqtt_bridge.h"
#include "medtwin/server/service.h"

namespace medtwin::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Tokens for trying the demo, valid for 12 h, one per role.
void PrintDemoTokens(const security::SigningKey& key) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto token = [&](security::Role role, const char* subject, const char* patient) {
    security::Claims c;
    c.role = role;
    c.subject = subject;
    c.patient = patient;
    c.issued_at_s = now;
    c.expires_at_s = now + 12 * 3600;
    c.token_id = std::string("demo-") + subject;
    return security::IssueToken(c, key);
  };
  std::printf(
      "medtwin serve: demo tokens (12 h; send as 'Authorization: Bearer TOKEN'):\n"
      "  admin       %s\n"
      "  clinician   %s  (dr-demo, on every demo patient's care team)\n"
      "  patient     %s  (ward-01's own record)\n"
      "  device      %s  (writes ward-01's observations)\n"
      "  researcher  %s\n",
      token(security::Role::kAdmin, "admin", "").c_str(),
      token(security::Role::kClinician, kDemoClinician, "").c_str(),
      token(security::Role::kPatient, "ward-01-patient", "ward-01").c_str(),
      token(security::Role::kDevice, "ward-01-monitor", "ward-01").c_str(),
      token(security::Role::kResearcher, "researcher", "").c_str());
}

// --hl7-senders; in the demo without one, one sender ("DEMO") that may send anything from this
// machine.
Result<std::vector<server::Hl7Sender>> Hl7SendersFor(const ServeArgs& args) {
  if (args.hl7_senders.empty()) {
    if (!args.demo) {
      return InvalidArgument("--hl7-senders",
                             "required with --hl7: the file that says which sending facilities "
                             "may write which patients (docs/hl7.md)");
    }
    server::Hl7Sender demo;
    demo.facility = "DEMO";
    demo.all_patients = true;
    demo.adt = true;
    demo.addresses = {"127.0.0.1", "::1"};
    return std::vector<server::Hl7Sender>{demo};
  }
  std::ifstream in(args.hl7_senders);
  if (!in) return Error{ErrorCode::kIoError, "--hl7-senders", "cannot read " + args.hl7_senders};
  std::stringstream text;
  text << in.rdbuf();
  MEDTWIN_TRY(nlohmann::json j, io::ParseUntrustedJson(text.str(), "senders"), args.hl7_senders);
  MEDTWIN_TRY(auto senders, server::ParseHl7Senders(j), args.hl7_senders);
  return senders;
}

// The SQLite store's file, or "" (in memory, or not SQLite).
std::string SqliteStorePath(const ServeArgs& args) {
  if (!args.store.starts_with("sqlite:") || args.store.find(":memory:") != std::string::npos) {
    return "";
  }
  std::string path = args.store.substr(7);
  if (const auto q = path.find('?'); q != std::string::npos) path = path.substr(0, q);
  return path;
}

// --audit-key; else, for a SQLite store, a key kept beside its database (PATH.audit-key,
// created 0600 on first start; a ledger begun before audit keys of their own keeps the key it
// was signed with), or for an in-memory store one for this run. A PostgreSQL store has no
// place to keep one: there the key must be given.
Result<security::SigningKeyPair> AuditKeyFor(const ServeArgs& args, store::Store& store,
                                             const security::SigningKey& token_secret) {
  if (!args.audit_key.empty()) return security::ReadAuditKeyFile(args.audit_key);
  const std::string path = SqliteStorePath(args);
  if (path.empty()) {
    if (!args.store.starts_with("sqlite:")) {
      return InvalidArgument("--audit-key",
                             "required with this store (make one with `medtwin audit keygen "
                             "--out FILE`; give verifiers `medtwin audit pubkey --key FILE`)");
    }
    MEDTWIN_TRY(auto seed, security::GenerateKey());
    return security::Ed25519FromSeed(seed.bytes);
  }
  const std::string key_file = path + ".audit-key";
  if (auto existing = security::ReadAuditKeyFile(key_file); existing.ok()) return existing;
  security::SigningKey seed;
  MEDTWIN_TRY(auto heads, store.TreeHeads());
  MEDTWIN_TRY(auto legacy, security::LegacyAuditSigningKey(token_secret));
  if (!heads.empty() && security::TreeHeadSignatureValid(heads.back(), legacy.public_key)) {
    seed.bytes = legacy.seed;
  } else {
    MEDTWIN_TRY(seed, security::GenerateKey());
  }
  MEDTWIN_RETURN_IF_ERROR(security::WriteKeyFile(seed, key_file));
  if (!args.demo) {
    std::fprintf(stderr,
                 "medtwin serve: no --audit-key: the audit ledger is signed with %s (kept apart "
                 "from the token key; keep it secret and publish `medtwin audit pubkey --key "
                 "%s`)\n",
                 key_file.c_str(), key_file.c_str());
  }
  return security::Ed25519FromSeed(seed.bytes);
}

}  // namespace

Status RunServe(const ServeArgs& args) {
  const auto colon = args.listen.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("--listen", "HOST:PORT, e.g. 127.0.0.1:8080");
  const auto parsed_port = ParsePort(args.listen.substr(colon + 1));
  if (!parsed_port) return InvalidArgument("--listen", "port must be 0..65535");
  const int port = *parsed_port;
  if (args.shards < 1 || args.shards > 64) return InvalidArgument("--shards", "1..64");
  // Tokens: the key from --auth-key; with --demo and no key, a key for this run only and demo
  // tokens printed for each role.
  auto auth = std::make_shared<server::AuthOptions>();
  if (!(args.rate_limit > 0)) return InvalidArgument("--rate-limit", "must be > 0");
  auth->rate_limit_per_s = args.rate_limit;
  if (!(args.auth_failure_limit > 0)) return InvalidArgument("--auth-failure-limit", "must be > 0");
  auth->auth_failures_per_s = args.auth_failure_limit;
  if (args.research_min_k < 2 || args.research_min_k > 100) {
    return InvalidArgument("--research-min-k", "2..100");
  }
  auth->research_min_k = args.research_min_k;
  auth->https = !args.tls_cert.empty();
  if (!args.public_url.empty()) {
    auto base = server::PublicBaseUrl(args.public_url);
    if (!base.ok()) return base.error();
    auth->public_url = *base;
  }
  if (args.unsafe_no_security) {
    if (args.listen.substr(0, colon) != "127.0.0.1") {
      return InvalidArgument("--unsafe-no-security", "only on 127.0.0.1 (it is for benchmarks)");
    }
    auth->disabled = true;
    std::fprintf(stderr,
                 "medtwin serve: WARNING: --unsafe-no-security: no tokens, no audit trail\n");
  }
  if (!args.auth_key.empty()) {
    MEDTWIN_TRY(auth->key, security::ReadKeyFile(args.auth_key));
  } else if (args.demo && args.store.starts_with("sqlite:") &&
             args.store.find(":memory:") == std::string::npos) {
    // The demo keeps its key beside its database, so its tokens and the audit ledger's
    // signatures stay valid across restarts.
    std::string path = args.store.substr(7);
    if (const auto q = path.find('?'); q != std::string::npos) path = path.substr(0, q);
    const std::string key_file = path + ".demo-key";
    auto existing = security::ReadKeyFile(key_file);
    if (existing.ok()) {
      auth->key = *existing;
    } else {
      MEDTWIN_TRY(auth->key, security::GenerateKey());
      MEDTWIN_RETURN_IF_ERROR(security::WriteKeyFile(auth->key, key_file));
    }
  } else if (args.demo || args.unsafe_no_security) {
    MEDTWIN_TRY(auth->key, security::GenerateKey());
  } else {
    return InvalidArgument("--auth-key",
                           "required (make one with `medtwin token keygen --out FILE`); only "
                           "--demo runs without, with a key for that run");
  }
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  auto broadcaster = std::make_shared<server::Broadcaster>();
  std::fprintf(stderr, "medtwin serve: loading twins from %s ...\n", store->Kind().data());
  // Data keys: identifiers at rest encrypted when given (file or environment).
  std::shared_ptr<const security::DataKeyRing> data_keys;
  if (!args.data_key.empty()) {
    MEDTWIN_TRY(auto ring, security::DataKeyRing::FromFile(args.data_key));
    data_keys = std::make_shared<const security::DataKeyRing>(std::move(ring));
  } else if (const char* env = std::getenv("MEDTWIN_DATA_KEY"); env != nullptr && *env != 0) {
    MEDTWIN_TRY(auto ring, security::DataKeyRing::FromText(env, "MEDTWIN_DATA_KEY"));
    data_keys = std::make_shared<const security::DataKeyRing>(std::move(ring));
  } else {
    std::fprintf(stderr,
                 "medtwin serve: warning: no --data-key: names and birth dates are stored "
                 "unencrypted\n");
  }
  MEDTWIN_TRY(auto service,
              server::TwinService::Open(std::move(store), args.shards, broadcaster, data_keys));
  // The audit ledger, its tree heads signed with a key of its own (not the token secret).
  std::unique_ptr<server::AuditLog> audit;
  if (!auth->disabled) {
    MEDTWIN_TRY(auto audit_key, AuditKeyFor(args, service->store(), auth->key));
    std::fprintf(stderr, "medtwin serve: audit tree heads signed by public key %s\n",
                 security::ToHex(audit_key.public_key).c_str());
    MEDTWIN_TRY(audit, server::AuditLog::Open(service->store(), std::move(audit_key)));
    service->SetAuditLog(audit.get());
  }
  std::unique_ptr<server::MqttBridge> mqtt;
  if (!args.mqtt.empty()) {
    server::MqttOptions mqtt_options;
    mqtt_options.ca_file = args.mqtt_ca;
    mqtt_options.allow_anonymous = args.allow_anonymous_mqtt;
    MEDTWIN_TRY(mqtt, server::MqttBridge::Start(args.mqtt, *service, mqtt_options));
    server::MqttBridge* bridge = mqtt.get();
    service->SetAlertListener([bridge](const std::string& patient, const std::string& json) {
      bridge->PublishAlert(patient, json);
    });
    service->SetCommandListener([bridge](const std::string& patient, const nlohmann::json& cmd) {
      bridge->PublishCommand(patient, cmd);
    });
  }
  std::unique_ptr<server::Hl7Listener> hl7;
  if (!args.hl7.empty()) {
    server::Hl7Options hl7_options;
    MEDTWIN_TRY(hl7_options.senders, Hl7SendersFor(args));
    if (args.hl7_frame_timeout_s < 1 || args.hl7_frame_timeout_s > 3600) {
      return InvalidArgument("--hl7-frame-timeout-s", "1..3600");
    }
    hl7_options.frame_timeout = std::chrono::seconds(args.hl7_frame_timeout_s);
    MEDTWIN_TRY(hl7, server::Hl7Listener::Start(args.hl7, *service, std::move(hl7_options)));
    std::printf("medtwin serve: HL7 v2 (MLLP) on port %d\n", hl7->port());
  }
  server::HttpOptions http;
  http.address = args.listen.substr(0, colon);
  http.port = static_cast<unsigned short>(port);
  http.threads = args.http_threads;
  http.body_limit = args.body_limit_mb * 1024 * 1024;
  if (args.read_timeout_s < 1 || args.read_timeout_s > 3600) {
    return InvalidArgument("--read-timeout-s", "1..3600");
  }
  http.read_timeout = std::chrono::seconds(args.read_timeout_s);
  http.tls_cert_file = args.tls_cert;
  http.tls_key_file = args.tls_key;
  MEDTWIN_TRY(auto server,
              server::HttpServer::Start(http, server::MakeApiHandler(*service, auth), broadcaster));
  std::unique_ptr<DemoFeeder> demo;
  if (args.demo) {
    DemoOptions d;
    d.speed = args.speed;
    MEDTWIN_TRY(demo, DemoFeeder::Start(*service, d));
  }
  // The one line a script waits for: where to connect.
  std::printf("medtwin serve: listening on %s://%s:%u (store %s, %zu twins%s%s)\n",
              args.tls_cert.empty() ? "http" : "https", http.address.c_str(), server->port(),
              service->store().Kind().data(), service->engine().TwinCount(),
              args.demo ? ", demo running" : "", mqtt ? ", MQTT connected" : "");
  if (args.demo && args.auth_key.empty() && !auth->disabled) PrintDemoTokens(auth->key);
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "medtwin serve: stopping\n");
  demo.reset();
  server->Stop();
  if (hl7) hl7->Stop();
  if (mqtt) mqtt->Stop();
  // Twins finish what they were given (and may still publish through the bridge), then the
  // bridge goes.
  service->engine().Drain();
  service->SetAlertListener({});
  service->SetCommandListener({});
  mqtt.reset();
  service->SetAuditLog(nullptr);
  audit.reset();  // stores what is queued, signs the last tree head
  return Ok{};
}

void AddServeCommand(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve",
      "The twin server: one live twin per patient fed by observations over HTTP (JSON or bulk\n"
      "NDJSON), stored durably before they are acknowledged, scored (NEWS2, rules) and alerted\n"
      "on; REST API under /api/v1, live events at /api/v1/stream (Server-Sent Events),\n"
      "/healthz, /metrics (Prometheus). See docs/api.md. Stops on Ctrl-C.");
  serve->add_option("--listen", args->listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--store", args->store, "sqlite:PATH or postgresql://USER@HOST/DB")
      ->capture_default_str();
  serve->add_option("--mqtt", args->mqtt,
                    "mqtt://USER@HOST:PORT or mqtts://USER@HOST:PORT broker (password:\n"
                    "$MEDTWIN_MQTT_PASSWORD): ingest from medtwin/obs/{patient}, answer on\n"
                    "medtwin/ack/{patient}, alerts on medtwin/alerts/{patient}");
  serve->add_flag("--demo", args->demo,
                  "Create demo patients (a ward, three deteriorating; two with type-1 diabetes\n"
                  "and CGM) and feed them live");
  serve->add_option("--speed", args->speed, "Demo physiology speed (x real time)")
      ->capture_default_str();
  serve->add_option("--shards", args->shards, "Twin shards (threads)")->capture_default_str();
  serve->add_option("--http-threads", args->http_threads, "HTTP threads")->capture_default_str();
  serve->add_option("--body-limit-mb", args->body_limit_mb, "Largest request body (MB)")
      ->capture_default_str();
  serve->add_option("--auth-key", args->auth_key,
                    "Signing key for bearer tokens (`medtwin token keygen`); every endpoint but\n"
                    "/healthz, /metrics and /fhir/r4/metadata needs a token. Required unless\n"
                    "--demo, which keeps a key beside its SQLite database (PATH.demo-key) "
                    "and\nprints a token per role.");
  serve->add_option("--audit-key", args->audit_key,
                    "Key that signs the audit ledger's tree heads (`medtwin audit keygen`); give\n"
                    "verifiers its public key (`medtwin audit pubkey`). Without it a SQLite store\n"
                    "keeps one beside its database (PATH.audit-key); PostgreSQL needs it");
  serve
      ->add_option("--research-min-k", args->research_min_k,
                   "The least k (k-anonymity) a researcher's export may use (2..100)")
      ->capture_default_str();
  serve
      ->add_option("--auth-failure-limit", args->auth_failure_limit,
                   "Failed authentications per second per client address (burst twice that);\n"
                   "beyond it the address's refusals are 429s, aggregated in the audit trail")
      ->capture_default_str();
  serve->add_option("--rate-limit", args->rate_limit, "Requests per second per token (429)")
      ->capture_default_str();
  serve->add_option("--tls-cert", args->tls_cert,
                    "PEM certificate chain: serve HTTPS (TLS 1.2+) instead of HTTP");
  serve->add_option("--tls-key", args->tls_key, "PEM private key for --tls-cert");
  serve->add_option(
      "--public-url", args->public_url,
      "The address clients reach the server at (e.g. https://twin.hospital.org,\n"
      "behind a proxy): FHIR fullUrls, Location headers and links use it. Without\n"
      "it they use the request's Host when it is a plain host[:port], else localhost");
  serve->add_flag("--unsafe-no-security", args->unsafe_no_security,
                  "Benchmarks only, 127.0.0.1 only: no tokens and no audit trail (to measure\n"
                  "what security costs)");
  serve->add_option("--hl7", args->hl7,
                    "HOST:PORT to take HL7 v2 over MLLP: ORU^R01 vital signs, ADT A01/A02/A03/\n"
                    "A04/A08 (ACK after the store committed; docs/hl7.md)");
  serve->add_option("--hl7-senders", args->hl7_senders,
                    "JSON file: the sending facilities (MSH-4) taken, and which patients each may\n"
                    "write (required with --hl7 outside --demo)");
  serve
      ->add_option("--hl7-frame-timeout-s", args->hl7_frame_timeout_s,
                   "Seconds an HL7 frame may take to arrive once begun (slow senders are cut off)")
      ->capture_default_str();
  serve->add_option("--mqtt-ca", args->mqtt_ca,
                    "CA certificate for an mqtts:// broker (password: $MEDTWIN_MQTT_PASSWORD)");
  serve->add_flag("--allow-anonymous-mqtt", args->allow_anonymous_mqtt,
                  "Let --mqtt connect without a user (anyone who reaches the broker could then\n"
                  "publish observations and read alerts): loopback brokers only");
  serve->add_option("--data-key", args->data_key,
                    "Key ring for direct identifiers at rest (AES-256-GCM; `medtwin keys new`);\n"
                    "default $MEDTWIN_DATA_KEY; without either they are stored unencrypted");
  serve
      ->add_option("--read-timeout-s", args->read_timeout_s,
                   "Seconds a client has to send a whole request (slow clients get 408)")
      ->capture_default_str();

  OnChosen(serve, [args] { return Report("serve", RunServe(*args)); });
}

}  // namespace medtwin::cli
