// A TCP port for a helper server a test starts itself (mosquitto, PostgreSQL), chosen so that it
// cannot collide with the servers other tests start on port 0: below the kernel's ephemeral range
// (which `listen :0` draws from), spread by process id and `salt`, and free right now.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

namespace medtwin::testing_support {

inline sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<unsigned short>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

inline bool PortBindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Loopback(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// `salt` separates several helper servers of one test process.
inline int FreePortBelowEphemeral(int salt) {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const int low = 10000;
  const int span = ephemeral_low - low > 1000 ? ephemeral_low - low : 1000;
  const int start = static_cast<int>((static_cast<long>(::getpid()) * 7 + salt * 1009) % span);
  for (int i = 0; i < span; ++i) {
    const int port = low + (start + i) % span;
    if (PortBindable(port)) return port;
  }
  return 0;
}

// Waits (5 s at most) until something accepts connections on 127.0.0.1:`port`.
inline bool WaitListening(int port) {
  for (int i = 0; i < 100; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(port);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return true;
    ::usleep(50 * 1000);
  }
  return false;
}

}  // namespace medtwin::testing_support
