#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace kappa::testing {

Result<TcpClient> TcpClient::connect(int port, const std::string& host, std::chrono::milliseconds timeout) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
  } else {
    return Status::invalid_argument("'" + host + "' is not a numeric address");
  }
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::unavailable(std::string("socket: ") + std::strerror(errno));
  TcpClient client(fd);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return Status::unavailable("connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  return client;
}

TcpClient& TcpClient::operator=(TcpClient&& other) noexcept {
  std::swap(fd_, other.fd_);
  return *this;
}

TcpClient::~TcpClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status TcpClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::unavailable(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

Result<std::string> TcpClient::read_to_close() {
  std::string received;
  char chunk[4096];
  while (true) {
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Status::unavailable("the server did not close the connection in time (" + std::to_string(received.size()) +
                                 " bytes received)");
    }
    if (n < 0) return Status::unavailable(std::string("recv: ") + std::strerror(errno));
    if (n == 0) return received;
    received.append(chunk, static_cast<std::size_t>(n));
  }
}

void TcpClient::reset() {
  const linger abort_on_close{1, 0};  // close() sends RST instead of FIN
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  ::close(fd_);
  fd_ = -1;
}

Result<HttpReply> parse_http_reply(std::string_view raw) {
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.") || head_end == std::string_view::npos || raw.size() < 12) {
    return Status::corruption("not an HTTP response: '" + std::string(raw.substr(0, 80)) + "'");
  }
  HttpReply reply;
  std::string_view head = raw.substr(0, head_end);
  const std::size_t line_end = head.find("\r\n");
  reply.status_line = std::string(head.substr(0, line_end));
  reply.status = std::atoi(reply.status_line.c_str() + 9);
  head = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!head.empty()) {
    const std::size_t end = std::min(head.find("\r\n"), head.size());
    const std::string_view line = head.substr(0, end);
    head = end == head.size() ? "" : head.substr(end + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Status::corruption("header line without ':': " + std::string(line));
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    reply.headers[name] = std::string(value);
  }
  reply.body = std::string(raw.substr(head_end + 4));
  return reply;
}

Result<HttpReply> http_exchange(int port, std::string_view request, const std::string& host) {
  KAPPA_ASSIGN_OR_RETURN(TcpClient client, TcpClient::connect(port, host));
  KAPPA_RETURN_IF_ERROR(client.send(request));
  KAPPA_ASSIGN_OR_RETURN(std::string raw, client.read_to_close());
  return parse_http_reply(raw);
}

Result<HttpReply> http_get(int port, std::string_view path, const std::string& host) {
  const std::string authority = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return http_exchange(port, "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n", host);
}

}  // namespace kappa::testing
