// server/http_server.h — a small HTTP/1.1 server on Boost.Beast: keep-alive connections served
// on a pool of threads, a body-size limit (413 beyond it), a read timeout against slow
// clients (408), and Server-Sent Event streams fed by a Broadcaster. Routing and meaning are
// the caller's: one handler turns a request into a response.
#pragma once

#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set by a handler that opens a Server-Sent Events stream: the connection stays open and
  // receives every broadcast message whose topic (patient) is in `stream_topics` (sorted), or
  // every message with `stream_all`.
  bool event_stream = false;
  bool stream_all = false;
  std::vector<std::string> stream_topics;
  // A stream ends when its token expires (Unix seconds; 0: never) with a final
  // `event: end`. Every HttpOptions::stream_check_interval, `stream_check` is given the topics
  // (patients) whose events were delivered since the last check (so they can be audited) and
  // returns the topics the stream may carry now, or nullopt to end it (access withdrawn, token
  // revoked).
  std::int64_t stream_expires_at_s = 0;
  std::function<std::optional<std::vector<std::string>>(const std::vector<std::string>& delivered)>
      stream_check;
};

// Fan-out of live events to every open stream. Thread-safe; slow or gone clients are dropped.
class Broadcaster {
 public:
  struct Subscriber {
    virtual ~Subscriber() = default;
    virtual void Send(const std::string& topic, std::shared_ptr<const std::string> message) = 0;
    [[nodiscard]] virtual bool Alive() const = 0;
    bool all = false;                 // under the broadcaster's lock once added
    std::vector<std::string> topics;  // sorted; under the broadcaster's lock once added
  };
  // `topic` is the event's patient; a subscriber gets it if `all` or it is among its topics.
  void Publish(const std::string& topic, std::string_view event, const std::string& data);
  void Add(std::shared_ptr<Subscriber> s);
  // Narrows or widens what a subscriber receives (after its access was checked again).
  void SetTopics(Subscriber& s, std::vector<std::string> sorted_topics);
  [[nodiscard]] std::size_t Count();
  // Cheap check for publishers: is any stream open (may lag by one connection)?
  [[nodiscard]] bool HasSubscribers() const { return active_.load(std::memory_order_relaxed) > 0; }
  // Would a message on `topic` reach anyone now? Publishers ask before they build one: with a
  // stream open on one patient, the other patients' observations are not turned into JSON.
  [[nodiscard]] bool Wants(const std::string& topic);

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Subscriber>> subscribers_;
  std::atomic<std::size_t> active_{0};
};

struct HttpOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port
  std::size_t body_limit = 16 * 1024 * 1024;
  std::chrono::seconds read_timeout{30};
  int threads = 2;
  // How often open streams are checked against their token and access (Response::stream_check).
  std::chrono::milliseconds stream_check_interval{2000};
  // HTTPS when both are given (PEM files; TLS 1.2+).
  std::string tls_cert_file, tls_key_file;
};

// The server sets this request header to the client's address (replacing any sent).
inline constexpr const char* kPeerHeader = "X-Medtwin-Peer";

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, Handler handler,
                                                   std::shared_ptr<Broadcaster> broadcaster);
  ~HttpServer();
  [[nodiscard]] unsigned short port() const;
  // Stops accepting, lets requests already being handled finish (10 s at most), then closes the
  // rest (idle connections, streams). Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medtwin::server
