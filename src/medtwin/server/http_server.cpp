#include "medtwin/server/http_server.h"

#include <algorithm>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

namespace medtwin::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

// --- Broadcaster -------------------------------------------------------------------------------

void Broadcaster::Publish(const std::string& topic, std::string_view event,
                          const std::string& data) {
  auto message = std::make_shared<const std::string>("event: " + std::string(event) +
                                                     "\ndata: " + data + "\n\n");
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(subscribers_, [](const std::weak_ptr<Subscriber>& w) {
    auto s = w.lock();
    return !s || !s->Alive();
  });
  active_ = subscribers_.size();
  for (const auto& w : subscribers_) {
    auto s = w.lock();
    if (s && (s->all || std::binary_search(s->topics.begin(), s->topics.end(), topic))) {
      s->Send(topic, message);
    }
  }
}

bool Broadcaster::Wants(const std::string& topic) {
  if (!HasSubscribers()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& w : subscribers_) {
    auto s = w.lock();
    if (s && (s->all || std::binary_search(s->topics.begin(), s->topics.end(), topic))) {
      return true;
    }
  }
  return false;
}

void Broadcaster::SetTopics(Subscriber& s, std::vector<std::string> sorted_topics) {
  std::lock_guard<std::mutex> lock(mu_);
  s.topics = std::move(sorted_topics);
}

void Broadcaster::Add(std::shared_ptr<Subscriber> s) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(s);
  active_ = subscribers_.size();
}

std::size_t Broadcaster::Count() {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(subscribers_, [](const std::weak_ptr<Subscriber>& w) {
    auto s = w.lock();
    return !s || !s->Alive();
  });
  active_ = subscribers_.size();
  return subscribers_.size();
}

// --- Sessions ----------------------------------------------------------------------------------

namespace {

http::response<http::string_body> ToBeast(const Request& req, Response&& r) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
  res.set(http::field::server, "medtwin");
  res.set(http::field::content_type, r.content_type);
  // Patient data must not be kept by caches or sniffed into another type; a handler may say
  // otherwise for its own response (static files).
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  for (auto& [k, v] : r.headers) {
    // A header value is never allowed to end the header block (CR, LF, NUL): drop it rather
    // than let a value split the response.
    if (v.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) continue;
    res.set(k, v);
  }
  res.keep_alive(req.keep_alive());
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

std::string ErrorBody(const char* code, const std::string& message) {
  return std::string("{\"error\":{\"code\":\"") + code + "\",\"field\":\"request\",\"message\":\"" +
         message + "\"}}";
}

// One connection, plain (beast::tcp_stream) or TLS (beast::ssl_stream over it).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>>,
                public Broadcaster::Subscriber {
 public:
  ~Session() override { ReportDelivered(); }
  Session(tcp::socket socket, const HttpOptions& options, const Handler& handler,
          std::shared_ptr<Broadcaster> broadcaster,
          std::atomic<int>& in_flight) requires std::is_same_v<Stream, beast::tcp_stream>
      : in_flight_(in_flight),
        stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        options_(options),
        handler_(handler),
        broadcaster_(std::move(broadcaster)) {}
  Session(tcp::socket socket, ssl::context& tls, const HttpOptions& options, const Handler& handler,
          std::shared_ptr<Broadcaster> broadcaster,
          std::atomic<int>& in_flight) requires(!std::is_same_v<Stream, beast::tcp_stream>)
      : in_flight_(in_flight),
        stream_(std::move(socket), tls),
        timer_(stream_.get_executor()),
        options_(options),
        handler_(handler),
        broadcaster_(std::move(broadcaster)) {}

  void Run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        self->DoRead();
      } else {
        // The TLS handshake first, within the read timeout.
        beast::get_lowest_layer(self->stream_).expires_after(self->options_.read_timeout);
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->Close();
          self->DoRead();
        });
      }
    });
  }

  void Send(const std::string& topic, std::shared_ptr<const std::string> message) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), topic, message] {
      if (!self->alive_ || self->ending_) return;
      self->delivered_.insert(topic);
      // A client that cannot keep up loses its stream rather than the server's memory.
      if (self->outbox_.size() > 10'000) {
        self->Close();
        return;
      }
      self->outbox_.push_back(message);
      if (self->outbox_.size() == 1) self->WriteNext();
    });
  }
  bool Alive() const override { return alive_; }

 private:
  // The read deadline is our own timer, not the stream's: Beast closes the socket on its
  // timeouts, which would leave no way to tell a slow client why (408).
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    beast::get_lowest_layer(stream_).expires_never();
    timed_out_ = false;
    timer_.expires_after(options_.read_timeout);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the request arrived
      self->timed_out_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().cancel(ignored);
    });
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->timer_.cancel();
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      Reply(431, ErrorBody("headers_too_large", "request headers larger than 8 KiB"), false);
      return;
    }
    if (ec == http::error::body_limit) {
      Reply(413,
            ErrorBody("payload_too_large",
                      "body larger than " + std::to_string(options_.body_limit) + " bytes"),
            false);
      return;
    }
    if (timed_out_) {
      // A slow client: say so if the request had started, then close.
      if (parser_->got_some())
        Reply(408, ErrorBody("timeout", "request not received in time"), false);
      else
        Close();
      return;
    }
    if (ec) {
      if (ec != http::error::end_of_stream && parser_->got_some() &&
          ec != net::error::connection_reset && ec != net::error::eof) {
        Reply(400, ErrorBody("bad_request", "malformed HTTP request"), false);
      } else {
        Close();
      }
      return;
    }
    Request req = parser_->release();
    // Counted from here until its reply is written, so a stop can let it finish (drain).
    in_flight_.fetch_add(1);
    // Where the request came from, for the audit trail; a client cannot set it.
    req.erase(kPeerHeader);
    {
      beast::error_code peer_ec;
      const auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(peer_ec);
      req.set(kPeerHeader, peer_ec ? std::string("unknown") : peer.address().to_string());
    }
    Response r;
    try {
      r = handler_(req);
    } catch (...) {
      r = Response{};
      r.status = 500;
      r.body = ErrorBody("internal", "internal error");
    }
    if (r.event_stream) {
      in_flight_.fetch_sub(1);  // a stream is not a request to wait for
      StartStream(req, std::move(r));
      return;
    }
    auto res = std::make_shared<http::response<http::string_body>>(ToBeast(req, std::move(r)));
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code wec, std::size_t) {
                        self->in_flight_.fetch_sub(1);
                        if (wec || !res->keep_alive()) return self->Close();
                        self->DoRead();
                      });
  }

  void Reply(unsigned status, std::string body, bool keep_alive) {
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::server, "medtwin");
    res->set(http::field::content_type, "application/json");
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    res->keep_alive(keep_alive);
    res->body() = std::move(body);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res](beast::error_code, std::size_t) { self->Close(); });
  }

  void StartStream(const Request& req, Response&& r) {
    beast::get_lowest_layer(stream_).expires_never();
    all = r.stream_all;
    topics = std::move(r.stream_topics);
    std::sort(topics.begin(), topics.end());
    auto header = std::make_shared<std::string>(
        "HTTP/1.1 200 OK\r\nServer: medtwin\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: "
        "keep-alive\r\n\r\n"
        ": stream open\n\n");
    (void)req;
    outbox_.push_back(header);
    stream_expires_at_s_ = r.stream_expires_at_s;
    stream_check_ = std::move(r.stream_check);
    broadcaster_->Add(this->shared_from_this());
    WriteNext();
    WaitForClose();
    ScheduleStreamCheck();
  }

  // Ends the stream at its token's expiry, and narrows it (or ends it) when access changes.
  void ScheduleStreamCheck() {
    timer_.expires_after(options_.stream_check_interval);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || !self->alive_) return;
      const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
      std::vector<std::string> delivered(self->delivered_.begin(), self->delivered_.end());
      self->delivered_.clear();
      std::optional<std::vector<std::string>> allowed;
      if (self->stream_check_) allowed = self->stream_check_(delivered);
      if (self->stream_expires_at_s_ > 0 && now_s >= self->stream_expires_at_s_) {
        return self->EndStream("token expired");
      }
      if (self->stream_check_ && !allowed) return self->EndStream("access withdrawn");
      if (allowed) {
        std::sort(allowed->begin(), allowed->end());
        self->broadcaster_->SetTopics(*self, std::move(*allowed));
      }
      self->ScheduleStreamCheck();
    });
  }

  // A last event that says why, then the connection closes.
  void EndStream(const char* reason) {
    ending_ = true;
    outbox_.push_back(std::make_shared<const std::string>(
        std::string("event: end\ndata: {\"reason\":\"") + reason + "\"}\n\n"));
    if (outbox_.size() == 1) WriteNext();
  }

  // A pending read keeps the streaming session alive (the broadcaster holds it weakly) and
  // notices when the client goes away.
  void WaitForClose() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->Close();
                              self->WaitForClose();
                            });
  }

  void WriteNext() {
    auto message = outbox_.front();
    net::async_write(stream_, net::buffer(*message),
                     [self = this->shared_from_this(), message](beast::error_code ec, std::size_t) {
                       if (ec) return self->Close();
                       self->outbox_.pop_front();
                       if (!self->outbox_.empty()) return self->WriteNext();
                       if (self->ending_) self->Close();
                     });
  }

  // A stream that ends (client gone, token expired, shutdown) still reports what it delivered
  // since its last check, so every delivered event is audited.
  void ReportDelivered() {
    if (!stream_check_ || delivered_.empty()) return;
    std::vector<std::string> delivered(delivered_.begin(), delivered_.end());
    delivered_.clear();
    try {
      (void)stream_check_(delivered);
    } catch (...) {
    }
  }

  void Close() {
    if (!alive_) return;
    ReportDelivered();
    alive_ = false;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

  std::atomic<int>& in_flight_;
  Stream stream_;
  net::steady_timer timer_;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpOptions& options_;
  const Handler& handler_;
  std::shared_ptr<Broadcaster> broadcaster_;
  std::deque<std::shared_ptr<const std::string>> outbox_;
  std::array<char, 512> drain_{};
  std::atomic<bool> alive_{true};
  // Streams only (on the session's strand).
  std::set<std::string> delivered_;
  std::int64_t stream_expires_at_s_ = 0;
  std::function<std::optional<std::vector<std::string>>(const std::vector<std::string>&)>
      stream_check_;
  bool ending_ = false;
};

}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  std::unique_ptr<ssl::context> tls;  // set when serving HTTPS
  Handler handler;
  std::shared_ptr<Broadcaster> broadcaster;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  std::atomic<int> in_flight{0};  // requests read and not yet answered

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted) return;
      } else {
        if (tls) {
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              std::move(socket), *tls, options, handler, broadcaster, in_flight)
              ->Run();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(std::move(socket), options, handler,
                                                       broadcaster, in_flight)
              ->Run();
        }
      }
      Accept();
    });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, Handler handler,
                                                      std::shared_ptr<Broadcaster> broadcaster) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->broadcaster = broadcaster ? std::move(broadcaster) : std::make_shared<Broadcaster>();
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgument("--tls-cert", "give both --tls-cert and --tls-key");
  }
  if (!options.tls_cert_file.empty()) {
    impl->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    // TLS 1.2 and later only.
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code tls_ec;
    impl->tls->use_certificate_chain_file(options.tls_cert_file, tls_ec);
    if (tls_ec) {
      return Error{ErrorCode::kIoError, "--tls-cert",
                   "cannot use " + options.tls_cert_file + ": " + tls_ec.message()};
    }
    impl->tls->use_private_key_file(options.tls_key_file, ssl::context::pem, tls_ec);
    if (tls_ec) {
      return Error{ErrorCode::kIoError, "--tls-key",
                   "cannot use " + options.tls_key_file + ": " + tls_ec.message()};
    }
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return InvalidArgument("--listen", "'" + options.address + "' is not an IP address");
  const tcp::endpoint endpoint{address, options.port};
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{ErrorCode::kIoError, "--listen",
                 "cannot listen on " + options.address + ":" + std::to_string(options.port) + ": " +
                     ec.message()};
  }
  impl->Accept();
  Impl* raw = impl.get();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    raw->threads.emplace_back([raw] { raw->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

unsigned short HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  // Drain: no new connections; requests already being handled get their replies (10 s at
  // most), then the loop stops (idle keep-alive connections and streams are closed).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace medtwin::server
