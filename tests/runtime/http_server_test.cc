#include "runtime/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <stdexcept>

#include "tests/support/http_client.h"
#include "tests/support/prometheus_text.h"

namespace kappa {
namespace {

using kappa::testing::http_exchange;
using kappa::testing::http_get;
using kappa::testing::HttpReply;
using kappa::testing::TcpClient;
using ::testing::HasSubstr;
using ::testing::StartsWith;

HttpRoutes echo_routes() {
  HttpRoutes routes;
  routes["/hello"] = [] { return HttpResponse{200, "text/plain; charset=utf-8", "hello\n"}; };
  return routes;
}

std::unique_ptr<HttpServer> start_ok(HttpRoutes routes, HttpServerOptions options = {}) {
  Result<std::unique_ptr<HttpServer>> server = HttpServer::start("127.0.0.1:0", std::move(routes), options);
  EXPECT_TRUE(server.is_ok()) << server.status().to_string();
  return server.is_ok() ? std::move(server).value() : nullptr;
}

HttpReply get_ok(int port, std::string_view path) {
  Result<HttpReply> reply = http_get(port, path);
  EXPECT_TRUE(reply.is_ok()) << path << ": " << reply.status().to_string();
  return reply.is_ok() ? std::move(reply).value() : HttpReply{};
}

HttpReply exchange_ok(int port, std::string_view request) {
  Result<HttpReply> reply = http_exchange(port, request);
  EXPECT_TRUE(reply.is_ok()) << request << ": " << reply.status().to_string();
  return reply.is_ok() ? std::move(reply).value() : HttpReply{};
}

TEST(HttpServerTest, ServesARouteOnAPortItChose) {
  std::unique_ptr<HttpServer> server = start_ok(echo_routes());
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(server->port()));

  const HttpReply reply = get_ok(server->port(), "/hello");
  EXPECT_EQ(reply.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(reply.body, "hello\n");
  EXPECT_EQ(reply.headers.at("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(reply.headers.at("content-length"), "6");
  EXPECT_EQ(reply.headers.at("connection"), "close");
  EXPECT_EQ(get_ok(server->port(), "/hello?debug=1").body, "hello\n") << "a query string is not part of the path";
}

TEST(HttpServerTest, AnswersWhatItDoesNotServe) {
  std::unique_ptr<HttpServer> server = start_ok(echo_routes());
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  const HttpReply missing = get_ok(port, "/nope");
  EXPECT_EQ(missing.status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(missing.body, "not found: /nope\n");

  const HttpReply post = exchange_ok(port, "POST /hello HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(post.status_line, "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(post.headers.at("allow"), "GET");
  EXPECT_EQ(exchange_ok(port, "HEAD /hello HTTP/1.1\r\n\r\n").status, 405);

  for (const char* request :
       {"garbage\r\n\r\n", "GET /hello\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\r\n\r\n"}) {
    EXPECT_EQ(exchange_ok(port, request).status, 400) << request;
  }
  // A body after a GET is read past, not answered, and does not reset the connection.
  EXPECT_EQ(exchange_ok(port, "GET /hello HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc").body, "hello\n");
  // Bare newlines, as typed into netcat.
  EXPECT_EQ(exchange_ok(port, "GET /hello HTTP/1.1\n\n").body, "hello\n");
}

TEST(HttpServerTest, RefusesAnOversizedRequestWith431) {
  HttpServerOptions options;
  options.max_request_bytes = 256;
  std::unique_ptr<HttpServer> server = start_ok(echo_routes(), options);
  ASSERT_NE(server, nullptr);
  // The client sends all of it before reading: the server answers at 256
  // bytes and reads past the rest, so the answer is not lost to a reset.
  const HttpReply reply =
      exchange_ok(server->port(), "GET /hello HTTP/1.1\r\nX-Big: " + std::string(100'000, 'x') + "\r\n\r\n");
  EXPECT_EQ(reply.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(get_ok(server->port(), "/hello").status, 200);
}

TEST(HttpServerTest, AThrowingHandlerAnswers500AndTheServerGoesOn) {
  HttpRoutes routes = echo_routes();
  routes["/boom"] = []() -> HttpResponse { throw std::runtime_error("collector broke"); };
  std::unique_ptr<HttpServer> server = start_ok(std::move(routes));
  ASSERT_NE(server, nullptr);
  const HttpReply reply = get_ok(server->port(), "/boom");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body, "internal error: collector broke\n");
  EXPECT_EQ(get_ok(server->port(), "/hello").status, 200);
}

// A client that connects and sends nothing (or half a request) holds up no
// one; when its time is up it gets a 408 and the connection closes.
TEST(HttpServerTest, ASilentClientDoesNotHoldUpOthers) {
  HttpServerOptions options;
  options.io_timeout = std::chrono::milliseconds(200);
  std::unique_ptr<HttpServer> server = start_ok(echo_routes(), options);
  ASSERT_NE(server, nullptr);
  Result<TcpClient> silent = TcpClient::connect(server->port());
  Result<TcpClient> half = TcpClient::connect(server->port());
  ASSERT_TRUE(silent.is_ok() && half.is_ok());
  ASSERT_TRUE(half->send("GET /hel").is_ok());

  EXPECT_EQ(get_ok(server->port(), "/hello").body, "hello\n");

  for (TcpClient* client : {&silent.value(), &half.value()}) {
    Result<std::string> answer = client->read_to_close();
    ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
    EXPECT_THAT(*answer, StartsWith("HTTP/1.1 408 Request Timeout\r\n"));
  }
}

// With every connection slot taken by silent clients, a new request waits
// in the backlog until a slot frees, then is served.
TEST(HttpServerTest, ARequestBeyondTheConnectionLimitWaitsItsTurn) {
  HttpServerOptions options;
  options.io_timeout = std::chrono::milliseconds(100);
  options.max_connections = 2;
  std::unique_ptr<HttpServer> server = start_ok(echo_routes(), options);
  ASSERT_NE(server, nullptr);
  Result<TcpClient> first = TcpClient::connect(server->port());
  Result<TcpClient> second = TcpClient::connect(server->port());
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  EXPECT_EQ(get_ok(server->port(), "/hello").body, "hello\n");
}

// A response larger than the socket buffers to a client that does not read
// it blocks no one; nor does a client that resets the connection mid-response
// (a write to it would raise SIGPIPE without MSG_NOSIGNAL and end this test).
TEST(HttpServerTest, ClientsThatDoNotReadOrResetDoNotHurt) {
  HttpRoutes routes = echo_routes();
  routes["/big"] = [] { return HttpResponse{200, "text/plain", std::string(8 << 20, 'b')}; };
  std::unique_ptr<HttpServer> server = start_ok(std::move(routes));
  ASSERT_NE(server, nullptr);

  Result<TcpClient> stalled = TcpClient::connect(server->port());
  ASSERT_TRUE(stalled.is_ok());
  ASSERT_TRUE(stalled->send("GET /big HTTP/1.1\r\n\r\n").is_ok());
  EXPECT_EQ(get_ok(server->port(), "/hello").body, "hello\n");

  for (int i = 0; i < 3; ++i) {
    Result<TcpClient> rude = TcpClient::connect(server->port());
    ASSERT_TRUE(rude.is_ok());
    ASSERT_TRUE(rude->send("GET /big HTTP/1.1\r\n\r\n").is_ok());
    rude->reset();
  }
  EXPECT_EQ(get_ok(server->port(), "/hello").body, "hello\n");

  const HttpReply big = get_ok(server->port(), "/big");
  EXPECT_EQ(big.body.size(), std::size_t{8 << 20});
}

TEST(HttpServerTest, StopClosesConnectedClientsAndTheListener) {
  std::unique_ptr<HttpServer> server = start_ok(echo_routes());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  Result<TcpClient> connected = TcpClient::connect(port);
  ASSERT_TRUE(connected.is_ok());
  ASSERT_TRUE(connected->send("GET /hel").is_ok());

  server->stop();
  // The connection ends: a close, or a reset if the server had not yet read
  // what the client sent; not the client's receive timeout.
  Result<std::string> rest = connected->read_to_close();
  if (rest.is_ok()) {
    EXPECT_EQ(*rest, "");
  } else {
    EXPECT_THAT(rest.status().message(), HasSubstr("reset")) << rest.status().to_string();
  }
  EXPECT_FALSE(TcpClient::connect(port).is_ok()) << "nothing listens after stop()";
  server->stop();  // idempotent, and the destructor stops again
}

TEST(HttpServerTest, ABusyPortIsOneClearLine) {
  std::unique_ptr<HttpServer> first = start_ok(echo_routes());
  ASSERT_NE(first, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(first->port());
  Result<std::unique_ptr<HttpServer>> second = HttpServer::start(address, echo_routes());
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), StartsWith("cannot listen on " + address + ": the port is in use"));
  EXPECT_EQ(second.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(get_ok(first->port(), "/hello").status, 200) << "the first server is untouched";
}

TEST(HttpServerTest, BadAddressesAreOneClearLine) {
  const struct {
    std::string address;
    StatusCode code;
    std::string message;
  } cases[] = {
      {"localhost", StatusCode::kInvalidArgument, "cannot listen on 'localhost': it is not host:port"},
      {":9464", StatusCode::kInvalidArgument, "it is not host:port"},
      {"127.0.0.1:99999", StatusCode::kInvalidArgument, "it is not host:port"},
      {"127.0.0.1:http", StatusCode::kInvalidArgument, "it is not host:port"},
      {"no-such-host.invalid:0", StatusCode::kInvalidArgument,
       "cannot listen on no-such-host.invalid:0: the host 'no-such-host.invalid' does not resolve"},
      // TEST-NET-1 (RFC 5737): no interface here has it.
      {"192.0.2.1:0", StatusCode::kUnavailable, "cannot listen on 192.0.2.1:0: no network interface"},
  };
  for (const auto& [address, code, message] : cases) {
    Result<std::unique_ptr<HttpServer>> server = HttpServer::start(address, echo_routes());
    ASSERT_FALSE(server.is_ok()) << address;
    EXPECT_EQ(server.status().code(), code) << address;
    EXPECT_THAT(server.status().message(), HasSubstr(message));
    EXPECT_EQ(server.status().message().find('\n'), std::string::npos);
  }
}

// An IPv6 literal is served where the machine has IPv6 loopback; where it
// has none, the failure is the one-line error naming the address.
TEST(HttpServerTest, ServesIpv6LoopbackOrSaysWhyNot) {
  Result<std::unique_ptr<HttpServer>> server = HttpServer::start("[::1]:0", echo_routes());
  if (!server.is_ok()) {
    EXPECT_THAT(server.status().message(), HasSubstr("[::1]:0"));
    EXPECT_EQ(server.status().message().find('\n'), std::string::npos);
    return;
  }
  EXPECT_EQ((*server)->address(), "[::1]:" + std::to_string((*server)->port()));
  Result<HttpReply> reply = http_get((*server)->port(), "/hello", "::1");
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(reply->body, "hello\n");
}

// The job's three routes, scraped and parsed as Prometheus would.
TEST(HttpServerTest, JobRoutesServeMetricsHealthAndReadiness) {
  MetricsRegistry registry;
  Counter& records_in = registry.counter("kappa_records_in_total", "Records read from the inputs.");
  MetricFamily<Gauge>& lag =
      registry.gauge_family("kappa_consumer_lag_records", "Records behind the end.", {"topic", "partition"});
  Histogram& latency =
      registry.histogram("kappa_end_to_end_latency_seconds", "Latency.", exponential_buckets(0.001, 10, 4));
  int collected = 0;
  registry.add_collector([&] { lag.with({"orders", std::to_string(collected++)}).set(7); });
  records_in.add(41);
  records_in.add();
  latency.observe(0.02);
  std::atomic<bool> restored{false};
  std::unique_ptr<HttpServer> server =
      start_ok(job_http_routes(registry, [&]() -> std::string { return restored ? "" : "restoring state"; }));
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  const HttpReply metrics = get_ok(port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  Result<testing::PrometheusText> parsed = testing::parse_prometheus_text(metrics.body);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string() << "\n" << metrics.body;
  EXPECT_EQ(parsed->value("kappa_records_in_total"), 42);
  EXPECT_EQ(parsed->value("kappa_consumer_lag_records", {{"topic", "orders"}, {"partition", "0"}}), 7);
  EXPECT_EQ(parsed->value("kappa_end_to_end_latency_seconds_bucket", {{"le", "0.1"}}), 1);
  EXPECT_EQ(parsed->value("kappa_end_to_end_latency_seconds_bucket", {{"le", "0.01"}}), 0);
  EXPECT_EQ(collected, 1) << "each scrape runs the collectors once";

  const HttpReply health = get_ok(port, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");

  const HttpReply not_ready = get_ok(port, "/readyz");
  EXPECT_EQ(not_ready.status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(not_ready.body, "not ready: restoring state\n");
  restored = true;
  const HttpReply ready = get_ok(port, "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
}

TEST(HttpServerTest, JobRoutesWithoutAReadinessCheckAreReady) {
  MetricsRegistry registry;
  std::unique_ptr<HttpServer> server = start_ok(job_http_routes(registry, nullptr));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(get_ok(server->port(), "/readyz").status, 200);
  const HttpReply empty_metrics = get_ok(server->port(), "/metrics");
  EXPECT_EQ(empty_metrics.status, 200);
  EXPECT_EQ(empty_metrics.body, "");
}

}  // namespace
}  // namespace kappa
