// A `medtwin serve` child process for end-to-end tests (with the test process's signing key)
// and one-shot HTTP calls to it carrying a bearer token.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "auth.h"

namespace medtwin::testing_support {

namespace e2e_beast = boost::beast;
namespace e2e_http = boost::beast::http;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string next_cursor;
  std::map<std::string, std::string> headers;  // names lower-case
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// A request with a bearer token (an admin's unless given; "" sends none).
inline Reply Call(unsigned short port, e2e_http::verb method, const std::string& target,
                  const std::string& body = "", const std::string& type = "application/json",
                  const std::string& token = TestAuth::Admin(),
                  const std::map<std::string, std::string>& headers = {}) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  e2e_beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  e2e_http::request<e2e_http::string_body> req{method, target, 11};
  req.set(e2e_http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(e2e_http::field::authorization, "Bearer " + token);
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) {
    req.set(e2e_http::field::content_type, type);
    req.body() = body;
  }
  req.prepare_payload();
  // The server may answer (413) and close before the whole body is sent: read the reply anyway.
  e2e_beast::error_code ec;
  e2e_http::write(stream, req, ec);
  e2e_beast::flat_buffer buffer;
  e2e_http::response_parser<e2e_http::string_body> parser;
  parser.body_limit(1ULL << 30);
  e2e_http::read(stream, buffer, parser, ec);
  Reply r;
  if (ec) return r;
  const auto& res = parser.get();
  r.status = res.result_int();
  r.body = res.body();
  if (res.count("X-Next-Cursor") > 0) r.next_cursor = std::string(res["X-Next-Cursor"]);
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(field.value());
  }
  return r;
}

// A patient's twin once its drug refit (if any) is installed: the server answers twin reads
// at once with "refitting": true while a fit of seconds runs, so a test that wants the new fit
// asks again until it is done (bounded: 2 min).
inline nlohmann::json FittedTwin(unsigned short port, const std::string& patient,
                                 const std::string& token = TestAuth::Admin()) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  nlohmann::json twin;
  do {
    twin = Call(port, e2e_http::verb::get, "/api/v1/patients/" + patient + "/twin", "",
                "application/json", token)
               .Json();
    if (!twin.is_object() || !twin.value("refitting", false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return twin;
}

// A `medtwin serve` child process.
class Server {
 public:
  explicit Server(const std::string& store, std::vector<std::string> extra = {}) {
    // The key and tokens are made here, in the parent, not in the forked child.
    const std::string key_file = TestAuth::KeyFile();
    const std::string audit_key_file = TestAuth::AuditKeyFile();
    (void)TestAuth::Admin();
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::vector<std::string> args = {std::string(MEDTWIN_BINARY_DIR) + "/medtwin",
                                       "serve",
                                       "--listen",
                                       "127.0.0.1:0",
                                       "--store",
                                       store,
                                       "--auth-key",
                                       key_file,
                                       "--audit-key",
                                       audit_key_file};
      for (auto& e : extra) args.push_back(e);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    // Wait for "listening on http://127.0.0.1:PORT".
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1) {
      if (c == '\n') {
        if (const auto h = line.find("(MLLP) on port "); h != std::string::npos) {
          hl7_port_ = static_cast<unsigned short>(std::stoi(line.substr(h + 15)));
        }
        const auto at = line.find("http://127.0.0.1:");
        if (at != std::string::npos) {
          port_ = static_cast<unsigned short>(std::stoi(line.substr(at + 17)));
          break;
        }
        line.clear();
      } else {
        line += c;
      }
    }
    out_fd_ = out[0];
  }
  ~Server() { Stop(SIGTERM); }
  void Stop(int signal) {
    if (pid_ <= 0) return;
    // A server that died by itself (a crash) before the test stopped it fails the test.
    int early = 0;
    if (::waitpid(pid_, &early, WNOHANG) == pid_) {
      // (A test may have stopped it itself with SIGTERM or SIGKILL: that is not a crash.)
      if (WIFSIGNALED(early) && WTERMSIG(early) != SIGTERM && WTERMSIG(early) != SIGKILL) {
        ADD_FAILURE() << "medtwin serve crashed with signal " << WTERMSIG(early);
      } else if (WIFEXITED(early) && WEXITSTATUS(early) != 0) {
        ADD_FAILURE() << "medtwin serve exited by itself with status " << WEXITSTATUS(early);
      }
      ::close(out_fd_);
      pid_ = -1;
      return;
    }
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(out_fd_);
    pid_ = -1;
  }
  unsigned short port() const { return port_; }
  // With --hl7 127.0.0.1:0: the port the HL7 listener took.
  unsigned short hl7_port() const { return hl7_port_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  unsigned short port_ = 0;
  unsigned short hl7_port_ = 0;
};

// RFC 3339 (whole seconds) `minutes_ago` before `base`. Times that must differ by exact amounts
// take one base: separate Now() calls may straddle a second.
inline std::string MinutesBefore(std::chrono::system_clock::time_point base, int minutes_ago) {
  const std::time_t tt =
      std::chrono::system_clock::to_time_t(base - std::chrono::minutes(minutes_ago));
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
  return buf;
}

// Now (minus `minutes_ago`) as an HL7 v2 DTM in UTC (YYYYMMDDHHMMSS+0000).
inline std::string Hl7Now(int minutes_ago = 0) {
  const std::time_t t = std::time(nullptr) - static_cast<std::time_t>(minutes_ago) * 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S+0000", &tm);
  return buf;
}

inline std::string Now(int minutes_ago = 0) {
  return MinutesBefore(std::chrono::system_clock::now(), minutes_ago);
}

inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts `command` in the background with its output in `log` and its pid in `pid`; waits (5 s
// at most) for `needle` in the log and returns the log so far. Stop it with StopLogged(pid).
inline std::string StartLogged(const std::string& command, const std::filesystem::path& log,
                               const std::filesystem::path& pid, const std::string& needle) {
  const std::string start = command + " > " + log.string() + " 2>&1 & echo $! > " + pid.string();
  if (std::system(start.c_str()) != 0) return "";
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string text = ReadAll(log);
    if (text.find(needle) != std::string::npos) return text;
  }
  return ReadAll(log);
}

// A TCP connection to 127.0.0.1:`port` whose reads give up after `timeout_s` (-1 if refused).
inline int ConnectLoopback(unsigned short port, int timeout_s = 10) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends `bytes` (MLLP frames) on `fd` and reads until an answer's end block (FS CR) arrives.
inline std::string MllpExchange(int fd, const std::string& bytes) {
  EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  std::string reply;
  char buf[4096];
  while (reply.find("\x1c\r") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  return reply;
}

inline void StopLogged(const std::filesystem::path& pid) {
  const std::string stop = "kill $(cat " + pid.string() + ") 2>/dev/null; sleep 0.3";
  (void)std::system(stop.c_str());
}

}  // namespace medtwin::testing_support
