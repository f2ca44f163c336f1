// A kept-alive connection that the server closed while it sat idle is not reused: the next
// request goes out on a new connection at its first attempt, and no failed attempt is counted.
// Over TLS, as a server closes it: close_notify, then the socket. httplib 0.11 only checks that
// the socket shows no end of file, and the close_notify record is data, so it would reuse it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "fakes/fake_hotdata.h"
#include "hotdata/http_client.h"
#include "unit/hotdata/client_fixture.h"

namespace hdm::hotdata {
namespace {

using std::chrono::milliseconds;
using testing::kToken;
using testing::RecordingObserver;

// Answers exactly one request per TLS connection, with keep-alive promised, then closes it
// (close_notify, then the socket). Serves `connections` connections, then stops.
class ClosingTlsServer {
 public:
  ClosingTlsServer(int connections, const std::string& cert_dir) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, (cert_dir + "/cert.pem").c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, (cert_dir + "/key.pem").c_str(), SSL_FILETYPE_PEM),
              1);
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_, 4), 0);
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, connections] { Serve(connections); });
  }
  ~ClosingTlsServer() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  std::future<void> first_closed() { return first_closed_.get_future(); }
  int accepted() const { return accepted_; }

 private:
  void Serve(int connections) {
    for (int i = 0; i < connections; ++i) {
      const int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      std::string request;
      if (SSL_accept(ssl) == 1) {
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          const int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          request.append(buf, static_cast<size_t>(n));
        }
        const std::string body = R"({"connection_id":"c1","healthy":true,"latency_ms":3})";
        const std::string response =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        EXPECT_EQ(SSL_write(ssl, response.data(), static_cast<int>(response.size())),
                  static_cast<int>(response.size()));
        SSL_shutdown(ssl);  // close_notify, as when a server's keep-alive timeout passes
      }
      SSL_free(ssl);
      close(fd);
      if (i == 0) first_closed_.set_value();
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::promise<void> first_closed_;
  std::thread thread_;
};

TEST(StaleKeepAliveTest, AConnectionClosedByTheServerIsNotReused) {
  signal(SIGPIPE, SIG_IGN);  // as the daemon does: a write to a closed socket is an error
  char dir_template[] = "/tmp/hdm-stale-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  ASSERT_TRUE(fake::WriteSelfSignedCert(dir).has_value());
  RecordingObserver observer;
  {
    ClosingTlsServer server(2, dir);
    auto closed = server.first_closed();
    ClientOptions options;
    options.base_url = "https://127.0.0.1:" + std::to_string(server.port());
    options.ca_file = dir + "/cert.pem";
    options.token = kToken;
    options.timeout = std::chrono::seconds(5);
    options.backoff = milliseconds(1);
    options.observer = &observer;
    options.stale_check_after = milliseconds(0);  // check before every reuse
    auto client = MakeHttpClient(options);

    ASSERT_TRUE(client->CheckHealth("c1").has_value());
    ASSERT_EQ(closed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    auto second = client->CheckHealth("c1");
    ASSERT_TRUE(second.has_value()) << second.error().ToString();
    EXPECT_EQ(server.accepted(), 2);
  }
  // Two requests, two answers: the dead connection cost no failed attempt.
  EXPECT_EQ(observer.Codes(), (std::vector<std::string>{"200", "200"}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hdm::hotdata
