// A TLS server that sends its bytes one at a time: the client's timeout must bound the whole
// exchange over HTTPS too. OpenSSL reads one record in as many read()s as it takes, and each
// restarts the socket's receive timeout, so without the transport re-arming it before every
// read one dripped record would hold a check for hours.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "client_fixture.h"

namespace hdm::hotdata::testing {
namespace {

enum class Drip {
  kHandshake,  // a record header announcing 16 KiB, then its body a byte at a time
  kAnswer,     // a real handshake, then the answer's record a byte at a time
};

// Accepts one connection on 127.0.0.1 and drips until the destructor.
class DrippingTlsServer {
 public:
  DrippingTlsServer(Drip drip, const std::string& dir) : drip_(drip), dir_(dir) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~DrippingTlsServer() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  // Waits `ms` or until the destructor; false when stopping.
  bool Pause(int fd, int ms) {
    pollfd p{.fd = fd, .events = 0, .revents = 0};
    for (int waited = 0; waited < ms && !stop_; waited += 10) ::poll(&p, 1, 10);
    return !stop_;
  }
  bool DripBytes(int fd, std::string_view bytes) {
    for (char c : bytes) {
      if (!Pause(fd, 50) || ::send(fd, &c, 1, MSG_NOSIGNAL) != 1) return false;
    }
    return true;
  }
  void Serve() {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (drip_ == Drip::kHandshake) {
      const char header[] = {0x16, 0x03, 0x03, 0x40, 0x00};  // handshake record, 16 KiB
      ::send(fd, header, sizeof header, MSG_NOSIGNAL);
      DripBytes(fd, std::string(16 << 10, '\x02'));
    } else {
      ServeTls(fd);
    }
    ::close(fd);
  }
  void ServeTls(int fd) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL* ssl = nullptr;
    if (SSL_CTX_use_certificate_chain_file(ctx, (dir_ + "/cert.pem").c_str()) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx, (dir_ + "/key.pem").c_str(), SSL_FILETYPE_PEM) == 1) {
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
    }
    char request[4096];
    if (ssl != nullptr && SSL_accept(ssl) == 1 && SSL_read(ssl, request, sizeof request) > 0) {
      // The answer's record is made in memory, then sent a byte at a time.
      BIO* mem = BIO_new(BIO_s_mem());
      SSL_set0_wbio(ssl, mem);
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}";
      SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
      char* record = nullptr;
      const long n = BIO_get_mem_data(mem, &record);
      DripBytes(fd, std::string_view(record, static_cast<size_t>(n)));
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
  }

  const Drip drip_;
  const std::string dir_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class TlsDripTest : public ::testing::TestWithParam<Drip> {
 protected:
  void SetUp() override {
    std::string dir_template = (std::filesystem::temp_directory_path() / "hdm-drip-XXXXXX");
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    auto written = fake::WriteSelfSignedCert(dir_);
    ASSERT_TRUE(written) << written.error();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string dir_;
};

TEST_P(TlsDripTest, TheTimeoutBoundsARecordDrippedByteByByte) {
  DrippingTlsServer server(GetParam(), dir_);
  ASSERT_GT(server.port(), 0);
  ClientOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(server.port());
  o.token = kToken;
  o.ca_file = dir_ + "/cert.pem";
  o.attempts = 1;
  o.timeout = milliseconds(500);
  const auto start = Clock::now();
  auto r = MakeHttpClient(o)->CheckHealth("c1");
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout) << r.error().ToString();
  // A byte comes every 50 ms: only the whole-exchange deadline can stop it, and it must, well
  // before the 16 KiB (or the answer's ~100 bytes, 5 s) would have been sent.
  EXPECT_LT(took, milliseconds(3000));
}

INSTANTIATE_TEST_SUITE_P(Drips, TlsDripTest, ::testing::Values(Drip::kHandshake, Drip::kAnswer),
                         [](const auto& info) {
                           return info.param == Drip::kHandshake ? "handshake" : "answer";
                         });

}  // namespace
}  // namespace hdm::hotdata::testing
