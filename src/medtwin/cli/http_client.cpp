#include "medtwin/cli/http_client.h"

#include "medtwin/core/text.h"

namespace medtwin::cli {

Result<HostPort> ParseUrl(const std::string& url, const std::string& scheme, int default_port,
                          const char* field) {
  if (!url.starts_with(scheme + "://")) {
    return InvalidArgument(field, "'" + url + "' is not " + scheme + "://HOST[:PORT]");
  }
  std::string rest = url.substr(scheme.size() + 3);
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  HostPort hp{rest, default_port};
  if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    hp.host = rest.substr(0, colon);
    const auto port = ParsePort(rest.substr(colon + 1));
    if (!port) return InvalidArgument(field, "port is not a number 1–65535");
    hp.port = *port;
  }
  if (hp.host.empty() || hp.port <= 0 || hp.port > 65535) {
    return InvalidArgument(field, "'" + url + "' is not " + scheme + "://HOST[:PORT]");
  }
  return hp;
}

Result<std::pair<unsigned, std::string>> HttpClient::Send(http::verb method,
                                                          const std::string& target,
                                                          std::string body, const char* type) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!stream_) {
        stream_ = std::make_unique<beast::tcp_stream>(ioc_);
        net::ip::tcp::resolver r(ioc_);
        stream_->connect(r.resolve(hp_.host, std::to_string(hp_.port)));
      }
      http::request<http::string_body> req{method, target, 11};
      req.set(http::field::host, hp_.host);
      if (type != nullptr) req.set(http::field::content_type, type);
      if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
      req.body() = body;
      req.prepare_payload();
      http::write(*stream_, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(*stream_, buffer, res);
      return std::make_pair(res.result_int(), std::move(res.body()));
    } catch (const std::exception& e) {
      stream_.reset();
      if (attempt == 1) {
        return Error{ErrorCode::kIoError, field_,
                     "cannot reach " + hp_.host + ":" + std::to_string(hp_.port) + ": " + e.what()};
      }
    }
  }
  return Error{ErrorCode::kIoError, field_, "unreachable"};
}

}  // namespace medtwin::cli
