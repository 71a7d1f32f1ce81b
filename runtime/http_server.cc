#include "runtime/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace kappa {
namespace {

using Clock = std::chrono::steady_clock;

// Why bind() or listen() failed, in words an operator acts on.
std::string bind_error(int error) {
  switch (error) {
    case EADDRINUSE:
      return "the port is in use (another process listens there; pick another port, or 0 for a free one)";
    case EACCES:
      return "permission denied (ports below 1024 need privileges)";
    case EADDRNOTAVAIL:
      return "no network interface of this machine has that address";
    default:
      return std::strerror(error);
  }
}

// "host:port" into its parts; "[::1]:9464" for IPv6 literals.
Status split_address(const std::string& address, std::string& host, std::string& port) {
  const std::size_t colon = address.rfind(':');
  int number = -1;
  if (colon != std::string::npos) {
    const char* first = address.data() + colon + 1;
    const char* last = address.data() + address.size();
    auto [end, ec] = std::from_chars(first, last, number);
    if (ec != std::errc() || end != last || first == last) number = -1;
  }
  if (colon == std::string::npos || colon == 0 || number < 0 || number > 65535) {
    return Status::invalid_argument("cannot listen on '" + address + "': it is not host:port, as in 127.0.0.1:9464");
  }
  host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port = std::to_string(number);
  return Status::ok();
}

// The numeric "host:port" a socket is bound to.
std::string bound_address(int fd, int& port) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  char host[NI_MAXHOST] = "?";
  char service[NI_MAXSERV] = "0";
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
    ::getnameinfo(reinterpret_cast<sockaddr*>(&storage), length, host, sizeof host, service, sizeof service,
                  NI_NUMERICHOST | NI_NUMERICSERV);
  }
  port = std::atoi(service);
  return storage.ss_family == AF_INET6 ? "[" + std::string(host) + "]:" + service : std::string(host) + ":" + service;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string serialize(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.status == 405) out += "Allow: GET\r\n";
  out += "Connection: close\r\n\r\n";
  out += response.body;
  return out;
}

HttpResponse text_response(int status, std::string body) { return {status, "text/plain; charset=utf-8", body + "\n"}; }

// The answer to a complete request head (which a request body, if any, follows).
HttpResponse respond(std::string_view head, const HttpRoutes& routes) {
  const std::string_view line = head.substr(0, head.find_first_of("\r\n"));
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space =
      first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos || !line.substr(second_space + 1).starts_with("HTTP/1.")) {
    return text_response(400, "bad request: the first line is not 'GET /path HTTP/1.1'");
  }
  const std::string_view method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));
  const auto route = routes.find(std::string(target));
  if (route == routes.end()) return text_response(404, "not found: " + std::string(target));
  if (method != "GET") return text_response(405, "method not allowed: only GET");
  try {
    return route->second();
  } catch (const std::exception& e) {  // a handler's failure is one 500, not a dead server thread
    spdlog::warn("HTTP handler for {} failed: {}", target, e.what());
    return text_response(500, std::string("internal error: ") + e.what());
  } catch (...) {
    spdlog::warn("HTTP handler for {} failed", target);
    return text_response(500, "internal error");
  }
}

// One client, from accept to close.
struct Connection {
  enum class Phase {
    kReading,   // until the request head is complete
    kWriting,   // the response
    kDraining,  // response sent and our side shut: read until the client closes, so that closing with
                // unread request bytes does not reset the connection before the client has read the response
  };
  int fd;
  Phase phase = Phase::kReading;
  Clock::time_point deadline;
  std::string buffer;       // the request while reading, the response while writing
  std::size_t written = 0;  // of the response
};

void start_response(Connection& connection, const HttpResponse& response, Clock::time_point deadline) {
  connection.phase = Connection::Phase::kWriting;
  connection.buffer = serialize(response);
  connection.written = 0;
  connection.deadline = deadline;
}

// Reads what the client sent; answers once the head is complete. Returns
// false when the connection is finished with.
bool on_readable(Connection& connection, const HttpRoutes& routes, const HttpServerOptions& options) {
  char chunk[4096];
  // A bounded number of reads per wake-up, so that a client sending without
  // end (while draining) cannot keep the loop from the others.
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = ::recv(connection.fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;  // the client went away (or an error)
    if (connection.phase == Connection::Phase::kDraining) continue;
    connection.buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t end = connection.buffer.find("\r\n\r\n");
    if (end == std::string::npos) end = connection.buffer.find("\n\n");
    const Clock::time_point deadline = Clock::now() + options.io_timeout;
    if (end != std::string::npos && end <= options.max_request_bytes) {
      start_response(connection, respond(std::string_view(connection.buffer).substr(0, end), routes), deadline);
      return true;
    }
    if (connection.buffer.size() > options.max_request_bytes) {
      start_response(connection,
                     text_response(431, "request head over " + std::to_string(options.max_request_bytes) + " bytes"),
                     deadline);
      return true;
    }
  }
  return true;
}

// Sends what the socket takes of the response. Returns false when the
// connection is finished with.
bool on_writable(Connection& connection, const HttpServerOptions& options) {
  while (connection.written < connection.buffer.size()) {
    const ssize_t n = ::send(connection.fd, connection.buffer.data() + connection.written,
                             connection.buffer.size() - connection.written, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0) return false;  // EPIPE, ECONNRESET: the client went away
    connection.written += static_cast<std::size_t>(n);
  }
  ::shutdown(connection.fd, SHUT_WR);
  connection.phase = Connection::Phase::kDraining;
  connection.buffer.clear();
  connection.deadline = Clock::now() + options.io_timeout;
  return true;
}

void close_fd(int fd) {
  if (fd >= 0) ::close(fd);  // no retry on EINTR: on Linux the descriptor is gone either way
}

// Accepts the clients waiting in the backlog while there is room.
void accept_clients(int listen_fd, const HttpServerOptions& options, const std::string& address,
                    std::vector<Connection>& connections, Clock::time_point& paused_until) {
  while (static_cast<int>(connections.size()) < options.max_connections) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      connections.push_back({fd, Connection::Phase::kReading, Clock::now() + options.io_timeout, {}, 0});
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      // Out of descriptors, say: the backlog stays readable, so pause rather
      // than spin; the clients waiting there get their turn later.
      spdlog::warn("HTTP server on {}: accept failed: {}", address, std::strerror(errno));
      paused_until = Clock::now() + std::chrono::milliseconds(100);
    }
    return;
  }
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& address, HttpRoutes routes,
                                                      HttpServerOptions options) {
  std::string host, service;
  KAPPA_RETURN_IF_ERROR(split_address(address, host, service));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int error = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); error != 0) {
    return Status::invalid_argument("cannot listen on " + address + ": the host '" + host + "' does not resolve (" +
                                    ::gai_strerror(error) + ")");
  }
  int listen_fd = -1;
  int first_error = 0;
  for (const addrinfo* candidate = found; candidate != nullptr && listen_fd < 0; candidate = candidate->ai_next) {
    const int fd =
        ::socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, candidate->ai_protocol);
    if (fd < 0) {
      if (first_error == 0) first_error = errno;
      continue;
    }
    // A restarted job rebinds at once despite connections of its predecessor
    // in TIME_WAIT. (On Linux this does not let two processes listen on one port.)
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, candidate->ai_addr, candidate->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd = fd;
    } else {
      if (first_error == 0) first_error = errno;
      close_fd(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd < 0) return Status::unavailable("cannot listen on " + address + ": " + bind_error(first_error));

  int wake[2];
  if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    const int error = errno;
    close_fd(listen_fd);
    return Status::unavailable("cannot serve " + address + ": no pipe to stop the server with (" +
                               std::strerror(error) + ")");
  }
  int port = 0;
  std::string bound = bound_address(listen_fd, port);
  std::unique_ptr<HttpServer> server(new HttpServer(listen_fd, port, std::move(bound), std::move(routes), options));
  server->wake_read_fd_ = wake[0];
  server->wake_write_fd_ = wake[1];
  server->thread_ = std::thread([raw = server.get()] { raw->serve(); });
  return server;
}

HttpServer::HttpServer(int listen_fd, int port, std::string address, HttpRoutes routes, HttpServerOptions options)
    : listen_fd_(listen_fd), port_(port), address_(std::move(address)), routes_(std::move(routes)), options_(options) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (thread_.joinable()) {
    const char byte = 0;
    while (::write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_read_fd_, &wake_write_fd_}) {
    close_fd(*fd);
    *fd = -1;
  }
}

void HttpServer::serve() {
  std::vector<Connection> connections;
  std::vector<pollfd> polled;
  Clock::time_point accept_paused_until{};
  while (true) {
    const Clock::time_point now = Clock::now();
    const bool room = static_cast<int>(connections.size()) < options_.max_connections;
    const bool accepting = room && now >= accept_paused_until;
    Clock::time_point next_deadline = room && !accepting ? accept_paused_until : Clock::time_point::max();
    polled.clear();
    polled.push_back({wake_read_fd_, POLLIN, 0});
    polled.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});  // poll() skips a negative fd
    for (const Connection& connection : connections) {
      const short events = connection.phase == Connection::Phase::kWriting ? POLLOUT : POLLIN;
      polled.push_back({connection.fd, events, 0});
      next_deadline = std::min(next_deadline, connection.deadline);
    }
    int timeout_ms = -1;
    if (next_deadline != Clock::time_point::max()) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(wait, 0, 60'000));
    }
    if (::poll(polled.data(), polled.size(), timeout_ms) < 0) {
      if (errno != EINTR) spdlog::warn("HTTP server on {}: poll failed: {}", address_, std::strerror(errno));
      continue;
    }
    if (polled[0].revents != 0) break;  // stop()

    // The connections poll() saw, by index; accepted ones are appended after.
    const Clock::time_point after = Clock::now();
    std::vector<Connection> open;
    open.reserve(connections.size());
    for (std::size_t i = 0; i < connections.size(); ++i) {
      Connection& connection = connections[i];
      bool keep = true;
      // The deadline first: a client that floods us is always ready, yet its time runs out too.
      if (after >= connection.deadline) {
        if (connection.phase == Connection::Phase::kReading) {
          start_response(connection, text_response(408, "request timeout"), after + options_.io_timeout);
          keep = on_writable(connection, options_);
        } else {
          keep = false;  // a client that does not take its response, or does not close
        }
      } else if (polled[i + 2].revents != 0) {
        keep = connection.phase == Connection::Phase::kWriting ? on_writable(connection, options_)
                                                               : on_readable(connection, routes_, options_);
      }
      if (keep) {
        open.push_back(std::move(connection));
      } else {
        close_fd(connection.fd);
      }
    }
    connections = std::move(open);

    if (polled[1].revents != 0) accept_clients(listen_fd_, options_, address_, connections, accept_paused_until);
  }
  for (const Connection& connection : connections) close_fd(connection.fd);
}

HttpRoutes job_http_routes(MetricsRegistry& registry, std::function<std::string()> not_ready_reason) {
  HttpRoutes routes;
  routes["/metrics"] = [&registry] {
    return HttpResponse{200, std::string(kPrometheusContentType), registry.scrape()};
  };
  routes["/healthz"] = [] { return text_response(200, "ok"); };
  routes["/readyz"] = [not_ready_reason = std::move(not_ready_reason)] {
    const std::string reason = not_ready_reason ? not_ready_reason() : "";
    return reason.empty() ? text_response(200, "ready") : text_response(503, "not ready: " + reason);
  };
  return routes;
}

}  // namespace kappa
