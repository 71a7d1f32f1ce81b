// A blocking HTTP/1.1 client for tests that talk to a job's HTTP server
// (/metrics, /healthz, /readyz): whole exchanges, or a raw connection a test
// drives by hand to play a slow or broken client. Every receive times out,
// so a server that never answers fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "runtime/status.h"

namespace kappa::testing {

struct HttpReply {
  int status = 0;
  std::string status_line;                     // "HTTP/1.1 200 OK"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A connected TCP socket. Move-only; closes on destruction.
class TcpClient {
 public:
  // `host` is a numeric IPv4 or IPv6 address.
  static Result<TcpClient> connect(int port, const std::string& host = "127.0.0.1",
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  TcpClient(TcpClient&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  TcpClient& operator=(TcpClient&& other) noexcept;
  ~TcpClient();

  Status send(std::string_view bytes);
  // Everything the server sends until it closes its side.
  Result<std::string> read_to_close();
  // Closes with a reset (RST), as a client that crashes mid-response.
  void reset();

 private:
  explicit TcpClient(int fd) : fd_(fd) {}
  int fd_;
};

// Splits a response into status, headers and body.
Result<HttpReply> parse_http_reply(std::string_view raw);
// Sends `request` as it is, reads the response to the close and parses it.
Result<HttpReply> http_exchange(int port, std::string_view request, const std::string& host = "127.0.0.1");
// GET `path`.
Result<HttpReply> http_get(int port, std::string_view path, const std::string& host = "127.0.0.1");

}  // namespace kappa::testing
