// A minimal HTTP/1.1 server for a job's /metrics, /healthz and /readyz.
//
// One background thread serves every connection with poll(): GET only, one
// request per connection (Connection: close). A client that sends nothing,
// sends too much or does not read its response cannot hold up the others or
// the job: each connection has a deadline and a size limit, writes never
// raise SIGPIPE, and a handler that throws answers 500.
//
//   Result<std::unique_ptr<HttpServer>> server =
//       HttpServer::start(options.metrics_addr, job_http_routes(registry, [&] { return runner.not_ready_reason(); }));
//   if (!server.is_ok()) ... server.status().message() names the address and the reason
//   ...
//   (*server)->stop();  // or let it go out of scope
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "runtime/metrics.h"
#include "runtime/status.h"

namespace kappa {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers a GET of one path. Runs on the server's thread and holds up the
// requests behind it, so it should be quick (a scrape, a flag).
using HttpHandler = std::function<HttpResponse()>;
// Handlers by path ("/metrics"); a query string is ignored when matching.
using HttpRoutes = std::map<std::string, HttpHandler>;

struct HttpServerOptions {
  // How long a client has to send its request, and then again to take its
  // response, before the connection is closed. Default 5 s.
  std::chrono::milliseconds io_timeout{5000};
  // The largest request head accepted; a larger one is answered 431.
  // Default 8 KiB.
  std::size_t max_request_bytes = 8192;
  // Connections served at once; more wait in the listen backlog. Default 32.
  int max_connections = 32;
};

class HttpServer {
 public:
  // Binds `address` ("host:port"; "[::1]:port" for an IPv6 literal; port 0
  // picks a free port) and serves `routes` on a thread of its own until
  // stop(). Fails with one line naming the address and the reason: the
  // port in use, no such local address, a host that does not resolve.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& address, HttpRoutes routes,
                                                   HttpServerOptions options = {});

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // stop()

  // The bound port: the chosen one when the address asked for port 0.
  int port() const { return port_; }
  // The bound address, numeric ("127.0.0.1:9464", "[::1]:9464"), for logs.
  const std::string& address() const { return address_; }

  // Closes the listening socket and every open connection and joins the
  // thread. Idempotent; call it from any thread but the server's own.
  void stop();

 private:
  HttpServer(int listen_fd, int port, std::string address, HttpRoutes routes, HttpServerOptions options);
  void serve();

  int listen_fd_;
  int wake_read_fd_ = -1;  // stop() writes to the pipe to end poll()
  int wake_write_fd_ = -1;
  int port_;
  std::string address_;
  HttpRoutes routes_;
  HttpServerOptions options_;
  std::thread thread_;
};

// The routes every job serves:
//   /metrics  200, registry.scrape() in the Prometheus text format 0.0.4
//   /healthz  200 "ok" for as long as the process answers
//   /readyz   200 "ready", or 503 with the reason not_ready_reason() gives
// `not_ready_reason` returns "" once the job is ready ("restoring state",
// "waiting for partitions" before); it runs on the server's thread, and a
// null one means always ready. `registry` must outlive the server.
HttpRoutes job_http_routes(MetricsRegistry& registry, std::function<std::string()> not_ready_reason);

}  // namespace kappa
