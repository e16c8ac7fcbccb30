// medtwin_loadgen — load on a running `medtwin serve` over loopback, and the limit it is
// compared with. Modes:
//   ingest  PORT PATIENTS SECONDS CONNECTIONS BATCH [one]  durable bulk-NDJSON throughput
//                                                   (readings spread over the patients; with
//                                                   "one", each request's for one patient, as
//                                                   a monitor, an ORU or a Bundle sends them)
//   latency PORT PATIENTS SECONDS RATE              observation → alert on the live stream (p50,
//                                                   p99) while background load runs at RATE/s
//   sqlite  PATH ROWS BATCH                         plain SQLite inserts of the same rows (same
//                                                   schema, WAL, synchronous=FULL): the limit
//   mqtt    PORT BROKER_PORT PATIENTS SECONDS BATCH WINDOW
//                                                   durable MQTT ingest: messages of BATCH
//                                                   observations on medtwin/obs/{patient}, at
//                                                   most WINDOW unacknowledged, counted from the
//                                                   server's acks on medtwin/ack/#
//   fhir    PORT PATIENTS SECONDS CONNECTIONS BUNDLE  FHIR transaction Bundles of BUNDLE
//                                                   vital-sign Observations (POST /fhir/r4)
//   hl7     HL7_PORT PATIENTS SECONDS CONNECTIONS OBX ORU^R01 messages of OBX vital signs over
//                                                   MLLP, each connection waiting for its ACK
//                                                   (original mode); patients named in PID-3
//                                                   by medtwin id (authority MEDTWIN), sender
//                                                   facility LOAD
// Prints "key value" lines. The server's bearer token comes from $MEDTWIN_TOKEN.
#include <mosquitto.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::string& Token() {
  static std::string token =
      std::getenv("MEDTWIN_TOKEN") != nullptr ? std::getenv("MEDTWIN_TOKEN") : "";
  return token;
}

std::string IsoTime(long long us) {
  const std::time_t s = static_cast<std::time_t>(us / 1'000'000);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&s));
  char out[80];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, us % 1'000'000);
  return out;
}

long long NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Client {
 public:
  explicit Client(unsigned short port) : stream_(ioc_) {
    net::ip::tcp::resolver r(ioc_);
    stream_.connect(r.resolve("127.0.0.1", std::to_string(port)));
  }
  unsigned Post(const std::string& target, std::string body, std::string* reply = nullptr) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!Token().empty()) req.set(http::field::authorization, "Bearer " + Token());
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (reply != nullptr) *reply = std::move(res.body());
    return res.result_int();
  }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

void CreatePatients(unsigned short port, int patients) {
  Client c(port);
  for (int i = 0; i < patients; ++i) {
    c.Post("/api/v1/patients", "{\"id\":\"load-" + std::to_string(i) + "\"}");
  }
}

std::string Line(int patient, const char* code, double value, const char* unit, long long t_us,
                 const char* source) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"patient\":\"load-%d\",\"code\":\"%s\",\"value\":%g,\"unit\":\"%s\","
                "\"time\":\"%s\",\"source\":\"%s\"}\n",
                patient, code, value, unit, IsoTime(t_us).c_str(), source);
  return buf;
}

int Ingest(unsigned short port, int patients, double seconds, int connections, int batch,
           bool one_patient_per_request = false) {
  CreatePatients(port, patients);
  std::atomic<long long> acked{0};
  std::atomic<long long> seq{0};
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const long long base = NowUs() - 3'600'000'000LL;  // an hour ago, microsecond steps
  std::vector<std::thread> threads;
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&, k] {
      Client c(port);
      std::string reply;
      while (Clock::now() < end) {
        std::string body;
        body.reserve(static_cast<std::size_t>(batch) * 170);
        const long long first = seq.fetch_add(batch);
        for (int i = 0; i < batch; ++i) {
          const long long n = first + i;
          const int patient =
              static_cast<int>(one_patient_per_request ? (first / batch) % patients : n % patients);
          body +=
              Line(patient, "8867-4", static_cast<double>(60 + n % 50), "/min", base + n, "load");
        }
        if (c.Post("/api/v1/observations", std::move(body), &reply) == 200) acked += batch;
      }
      (void)k;
    });
  }
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("ingest_observations %lld\ningest_seconds %.3f\ningest_obs_per_s %.0f\n",
              acked.load(), elapsed, static_cast<double>(acked.load()) / elapsed);
  return 0;
}

int Latency(unsigned short port, int patients, double seconds, double rate) {
  CreatePatients(port, patients);
  // The live stream, filtered to one probe patient, read on its own thread.
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), port});
  const std::string req =
      "GET /api/v1/stream?patient=load-0 HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      Token() + "\r\n\r\n";
  net::write(sock, net::buffer(req));
  // Each alert event carries "updated_at", the probe observation's own time, which is the
  // moment the probe was sent: latency = arrival on the stream − that time.
  std::mutex mu;
  std::vector<double> lat_ms;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::string buf;
    char chunk[8192];
    while (!stop) {
      boost::system::error_code ec;
      const std::size_t n = sock.read_some(net::buffer(chunk), ec);
      if (ec) break;
      const long long now = NowUs();
      buf.append(chunk, n);
      std::size_t at;
      while ((at = buf.find("event: alert")) != std::string::npos) {
        const auto u = buf.find("\"updated_at\":\"", at);
        if (u == std::string::npos) break;  // the rest of the event has not arrived yet
        const std::string stamp = buf.substr(u + 14, 27);  // YYYY-MM-DDThh:mm:ss.ffffffZ
        std::tm tm{};
        strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        const long long sent =
            static_cast<long long>(timegm(&tm)) * 1'000'000LL + std::stoll(stamp.substr(20, 6));
        std::lock_guard<std::mutex> lock(mu);
        lat_ms.push_back(static_cast<double>(now - sent) / 1000.0);
        buf.erase(0, u + 14);
      }
      if (buf.size() > 65536) buf.erase(0, buf.size() - 4096);
    }
  });
  // Background load at `rate` obs/s over 2 connections, batches of 500.
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::atomic<long long> seq{0};
  const long long base = NowUs() - 3'600'000'000LL;
  std::vector<std::thread> load;
  for (int k = 0; k < 2; ++k) {
    load.emplace_back([&] {
      Client c(port);
      const int batch = 500;
      const auto interval = std::chrono::duration<double>(batch / (rate / 2));
      auto next = Clock::now();
      while (Clock::now() < end) {
        std::string body;
        for (int i = 0; i < batch; ++i) {
          const long long n = seq++;
          body += Line(1 + static_cast<int>(n % (patients - 1)), "8867-4",
                       static_cast<double>(60 + n % 30), "/min", base + n, "bg");
        }
        c.Post("/api/v1/observations", std::move(body));
        next += std::chrono::duration_cast<Clock::duration>(interval);
        std::this_thread::sleep_until(next);
      }
    });
  }
  // Probes: SpO2 84 raises an alert, 97 resolves it; each reply-independent send time recorded.
  Client probe(port);
  std::vector<double> reply_ms;  // the probe's own request: stored and applied, answered
  int k = 0;
  while (Clock::now() < end) {
    const bool low = k % 2 == 0;
    const long long t = NowUs();
    const std::string body = "{\"code\":\"2708-6\",\"value\":" + std::string(low ? "84" : "97") +
                             ",\"unit\":\"%\",\"time\":\"" + IsoTime(t) +
                             "\",\"source\":\"probe\"}";
    probe.Post("/api/v1/patients/load-0/observations", body);
    reply_ms.push_back(static_cast<double>(NowUs() - t) / 1000.0);
    ++k;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : load) t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  sock.shutdown(net::ip::tcp::socket::shutdown_both);
  sock.close();
  reader.join();
  auto q = [](std::vector<double>& v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? -1 : v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
  };
  std::printf(
      "latency_samples %zu\nlatency_background_obs %lld\nlatency_p50_ms %.2f\n"
      "latency_p99_ms %.2f\nlatency_reply_p50_ms %.2f\nlatency_reply_p99_ms %.2f\n",
      lat_ms.size(), seq.load(), q(lat_ms, 0.5), q(lat_ms, 0.99), q(reply_ms, 0.5),
      q(reply_ms, 0.99));
  return 0;
}

int SqliteLimit(const char* path, long long rows, int batch) {
  sqlite3* db = nullptr;
  std::remove(path);
  if (sqlite3_open(path, &db) != SQLITE_OK) return 1;
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; "
               "PRAGMA mmap_size=1073741824;",
               nullptr, nullptr, nullptr);
  sqlite3_exec(db,
               "CREATE TABLE observations(patient TEXT NOT NULL, time_us INTEGER NOT NULL, "
               "code TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', value REAL NOT NULL, "
               "text TEXT NOT NULL DEFAULT '', PRIMARY KEY(patient, time_us, code, source)) "
               "WITHOUT ROWID",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT OR IGNORE INTO observations(patient, code, time_us, value, text, "
                     "source) VALUES(?,?,?,?,?,?)",
                     -1, &st, nullptr);
  const auto t0 = Clock::now();
  const long long base = NowUs();
  for (long long done = 0; done < rows;) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 0; i < batch && done < rows; ++i, ++done) {
      const std::string patient = "load-" + std::to_string(done % 1000);
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, patient.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, "8867-4", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 3, base + done);
      sqlite3_bind_double(st, 4, static_cast<double>(60 + done % 50));
      sqlite3_bind_text(st, 5, "", -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 6, "load", -1, SQLITE_STATIC);
      sqlite3_step(st);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::printf("sqlite_rows %lld\nsqlite_seconds %.3f\nsqlite_rows_per_s %.0f\n", rows, elapsed,
              static_cast<double>(rows) / elapsed);
  return 0;
}

// Durable ingest over MQTT: the publisher keeps WINDOW messages in flight and counts what the
// server's acks say was accepted (an ack is sent after the store has committed).
int Mqtt(unsigned short port, int broker_port, int patients, double seconds, int batch,
         int window) {
  CreatePatients(port, patients);
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    long long in_flight = 0, acked_messages = 0, accepted = 0, rejected = 0;
  } st;
  mosquitto_lib_init();
  mosquitto* client = mosquitto_new("medtwin-loadgen", true, &st);
  mosquitto_message_callback_set(client, [](mosquitto*, void* ctx, const mosquitto_message* m) {
    auto* s = static_cast<State*>(ctx);
    const auto reply =
        nlohmann::json::parse(std::string_view(static_cast<const char*>(m->payload),
                                               static_cast<std::size_t>(m->payloadlen)),
                              nullptr, false);
    std::lock_guard<std::mutex> lock(s->mu);
    --s->in_flight;
    ++s->acked_messages;
    if (reply.is_object() && reply.contains("accepted")) {
      s->accepted += static_cast<long long>(reply["accepted"].size());
      s->rejected += static_cast<long long>(reply["rejected"].size());
    }
    s->cv.notify_all();
  });
  if (mosquitto_connect(client, "127.0.0.1", broker_port, 30) != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "cannot connect to the broker on port %d\n", broker_port);
    return 1;
  }
  mosquitto_subscribe(client, nullptr, "medtwin/ack/#", 1);
  mosquitto_loop_start(client);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long long base = NowUs() - 3'600'000'000LL;
  long long seq = 0, sent = 0;
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    {
      std::unique_lock<std::mutex> lock(st.mu);
      st.cv.wait(lock, [&] { return st.in_flight < window; });
      ++st.in_flight;
    }
    const int patient = static_cast<int>(sent % patients);
    std::string body = "[";
    for (int i = 0; i < batch; ++i) {
      const long long n = seq++;
      std::string line =
          Line(patient, "8867-4", static_cast<double>(60 + n % 50), "/min", base + n, "mqtt");
      line.pop_back();  // the newline
      if (i > 0) body += ',';
      body += line;
    }
    body += ']';
    const std::string topic = "medtwin/obs/load-" + std::to_string(patient);
    mosquitto_publish(client, nullptr, topic.c_str(), static_cast<int>(body.size()), body.data(), 1,
                      false);
    ++sent;
  }
  {
    std::unique_lock<std::mutex> lock(st.mu);
    st.cv.wait_for(lock, std::chrono::seconds(30), [&] { return st.in_flight == 0; });
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "mqtt_messages %lld\nmqtt_acked_messages %lld\nmqtt_observations %lld\n"
      "mqtt_rejected %lld\nmqtt_seconds %.3f\nmqtt_obs_per_s %.0f\nmqtt_msgs_per_s %.0f\n",
      sent, st.acked_messages, st.accepted, st.rejected, elapsed,
      static_cast<double>(st.accepted) / elapsed, static_cast<double>(st.acked_messages) / elapsed);
  mosquitto_disconnect(client);
  mosquitto_loop_stop(client, false);
  mosquitto_destroy(client);
  mosquitto_lib_cleanup();
  return 0;
}

// FHIR transactions: Bundles of `bundle` heart-rate Observations (one patient per Bundle).
int FhirTransactions(unsigned short port, int patients, double seconds, int connections,
                     int bundle) {
  CreatePatients(port, patients);
  std::atomic<long long> acked{0}, bundles{0}, seq{0};
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const long long base = NowUs() - 3'600'000'000LL;
  std::vector<std::thread> threads;
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&] {
      Client c(port);
      std::string reply;
      while (Clock::now() < end) {
        const long long first = seq.fetch_add(bundle);
        const int patient = static_cast<int>((first / bundle) % patients);
        std::string body = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
        for (int i = 0; i < bundle; ++i) {
          const long long n = first + i;
          char entry[640];
          std::snprintf(
              entry, sizeof entry,
              R"(%s{"request":{"method":"POST","url":"Observation"},"resource":{)"
              R"("resourceType":"Observation","status":"final","category":[{"coding":)"
              R"([{"system":"http://terminology.hl7.org/CodeSystem/observation-category",)"
              R"("code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org",)"
              R"("code":"8867-4"}]},"subject":{"reference":"Patient/load-%d"},)"
              R"("effectiveDateTime":"%s","valueQuantity":{"value":%lld,"unit":"/min",)"
              R"("system":"http://unitsofmeasure.org","code":"/min"},)"
              R"("device":{"display":"fhir"}}})",
              i > 0 ? "," : "", patient, IsoTime(base + n).c_str(), 60 + n % 50);
          body += entry;
        }
        body += "]}";
        if (c.Post("/fhir/r4", std::move(body), &reply) == 200) {
          acked += bundle;
          ++bundles;
        }
      }
    });
  }
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "fhir_bundles %lld\nfhir_observations %lld\nfhir_seconds %.3f\n"
      "fhir_obs_per_s %.0f\nfhir_bundles_per_s %.0f\n",
      bundles.load(), acked.load(), elapsed, static_cast<double>(acked.load()) / elapsed,
      static_cast<double>(bundles.load()) / elapsed);
  return 0;
}

// HL7 v2 ORU^R01 over MLLP, original mode: a message, its ACK, the next.
int Hl7(unsigned short hl7_port, int patients, double seconds, int connections, int obx) {
  std::atomic<long long> accepted{0}, messages{0}, refused{0}, seq{0};
  const std::string run_source = "LG" + std::to_string(NowUs() % 1'000'000'000);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const long long base = NowUs() - 3'600'000'000LL;
  std::vector<std::thread> threads;
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&] {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(hl7_port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::fprintf(stderr, "cannot connect to the HL7 port %u\n", hl7_port);
        return;
      }
      std::string reply;
      char buf[4096];
      while (Clock::now() < end) {
        const long long first = seq.fetch_add(obx);
        const int patient = static_cast<int>((first / obx) % patients);
        // MSH-3 (the device: the readings' source) is this run's own, so runs never collide.
        std::string m = "\x0bMSH|^~\\&|" + run_source +
                        "|LOAD|MEDTWIN|HOSP|20261207000000+0000||"
                        "ORU^R01^ORU_R01|" +
                        std::to_string(first) + "|P|2.6\rPID|||load-" + std::to_string(patient) +
                        "^^^MEDTWIN\r";
        for (int i = 0; i < obx; ++i) {
          const long long n = first + i;
          const long long t_us = base + n * 100;  // DTM carries 100 µs at most
          const std::time_t t = static_cast<std::time_t>(t_us / 1'000'000);
          char stamp[32];
          std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", std::gmtime(&t));
          char seg[256];
          std::snprintf(seg, sizeof seg,
                        "OBX|%d|NM|147842^MDC_ECG_HEART_RATE^MDC||%lld|"
                        "264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||%s.%04lld+0000\r",
                        i + 1, 60 + n % 50, stamp, (t_us % 1'000'000) / 100);
          m += seg;
        }
        m += "\x1c\r";
        if (::send(fd, m.data(), m.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(m.size())) break;
        reply.clear();
        while (reply.find("\x1c") == std::string::npos) {
          const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          reply.append(buf, static_cast<std::size_t>(n));
        }
        ++messages;
        if (reply.find("MSA|AA|") != std::string::npos) {
          accepted += obx;
        } else {
          ++refused;
        }
      }
      ::close(fd);
    });
  }
  const auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "hl7_messages %lld\nhl7_refused %lld\nhl7_observations %lld\nhl7_seconds %.3f\n"
      "hl7_obs_per_s %.0f\nhl7_msgs_per_s %.0f\n",
      messages.load(), refused.load(), accepted.load(), elapsed,
      static_cast<double>(accepted.load()) / elapsed,
      static_cast<double>(messages.load()) / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "ingest" && (argc == 7 || (argc == 8 && std::string(argv[7]) == "one"))) {
    return Ingest(static_cast<unsigned short>(std::stoi(argv[2])), std::stoi(argv[3]),
                  std::stod(argv[4]), std::stoi(argv[5]), std::stoi(argv[6]), argc == 8);
  }
  if (mode == "latency" && argc == 6) {
    return Latency(static_cast<unsigned short>(std::stoi(argv[2])), std::stoi(argv[3]),
                   std::stod(argv[4]), std::stod(argv[5]));
  }
  if (mode == "mqtt" && argc == 8) {
    return Mqtt(static_cast<unsigned short>(std::stoi(argv[2])), std::stoi(argv[3]),
                std::stoi(argv[4]), std::stod(argv[5]), std::stoi(argv[6]), std::stoi(argv[7]));
  }
  if (mode == "fhir" && argc == 7) {
    return FhirTransactions(static_cast<unsigned short>(std::stoi(argv[2])), std::stoi(argv[3]),
                            std::stod(argv[4]), std::stoi(argv[5]), std::stoi(argv[6]));
  }
  if (mode == "hl7" && argc == 7) {
    return Hl7(static_cast<unsigned short>(std::stoi(argv[2])), std::stoi(argv[3]),
               std::stod(argv[4]), std::stoi(argv[5]), std::stoi(argv[6]));
  }
  if (mode == "sqlite" && argc == 5)
    return SqliteLimit(argv[2], std::stoll(argv[3]), std::stoi(argv[4]));
  std::fprintf(stderr,
               "usage: medtwin_loadgen ingest PORT PATIENTS SECONDS CONNECTIONS BATCH [one]\n"
               "       medtwin_loadgen latency PORT PATIENTS SECONDS RATE\n"
               "       medtwin_loadgen sqlite PATH ROWS BATCH\n"
               "       medtwin_loadgen mqtt PORT BROKER_PORT PATIENTS SECONDS BATCH WINDOW\n"
               "       medtwin_loadgen fhir PORT PATIENTS SECONDS CONNECTIONS BUNDLE\n"
               "       medtwin_loadgen hl7 HL7_PORT PATIENTS SECONDS CONNECTIONS OBX\n");
  return 2;
}
