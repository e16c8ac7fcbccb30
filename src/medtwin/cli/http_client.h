// cli/http_client.h — the HTTP client the command-line tools share (`devices`, `audit
// witness`): one keep-alive connection with a bearer token, reconnecting once when the server
// has closed it; errors are values naming the option that gave the address.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "medtwin/core/result.h"

namespace medtwin::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

struct HostPort {
  std::string host;
  int port = 0;
};

// scheme://HOST[:PORT][/…] → host and port; errors name `field`.
[[nodiscard]] Result<HostPort> ParseUrl(const std::string& url, const std::string& scheme,
                                        int default_port, const char* field);

// One keep-alive HTTP connection, reconnecting when the server closed it.
class HttpClient {
 public:
  // `field`: the option errors name (the address came from it).
  HttpClient(HostPort hp, std::string token, std::string field = "--to")
      : hp_(std::move(hp)), token_(std::move(token)), field_(std::move(field)) {}
  Result<std::pair<unsigned, std::string>> Post(const std::string& target, std::string body,
                                                const char* type) {
    return Send(http::verb::post, target, std::move(body), type);
  }
  Result<std::pair<unsigned, std::string>> Get(const std::string& target) {
    return Send(http::verb::get, target, "", nullptr);
  }

 private:
  Result<std::pair<unsigned, std::string>> Send(http::verb method, const std::string& target,
                                                std::string body, const char* type);

  HostPort hp_;
  std::string token_;
  std::string field_;
  std::mutex mu_;
  net::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> stream_;
};

}  // namespace medtwin::cli
