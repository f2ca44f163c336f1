// HttpHotdataApi over HTTPS against the fake API with a self-signed certificate.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "client_fixture.h"

namespace hdm::hotdata::testing {
namespace {

class HttpClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template = (std::filesystem::temp_directory_path() / "hdm-tls-XXXXXX");
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    auto written = fake::WriteSelfSignedCert(dir_);
    ASSERT_TRUE(written) << written.error();
    server_ = std::make_unique<fake::FakeHotdataServer>(
        fake::FakeServerOptions{.cert_file = dir_ + "/cert.pem", .key_file = dir_ + "/key.pem"});
    ASSERT_GT(server_->Start(), 0);
    server_->Upsert(fake::FakeConnection{.id = "c1", .name = "prod-pg"});
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  ClientOptions Options() {
    ClientOptions o;
    o.base_url = server_->base_url();
    o.token = kToken;
    o.backoff = milliseconds(10);
    o.timeout = milliseconds(2000);
    o.observer = &observer_;
    return o;
  }

  std::string dir_;
  std::unique_ptr<fake::FakeHotdataServer> server_;
  RecordingObserver observer_;
};

TEST_F(HttpClientTlsTest, TrustsTheConfiguredCaFile) {
  ASSERT_TRUE(server_->base_url().starts_with("https://"));
  ClientOptions o = Options();
  o.ca_file = dir_ + "/cert.pem";
  auto api = MakeHttpClient(o);
  auto r = api->CheckHealth("c1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(api->CheckHealth("c1"));
  const auto requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].remote_port, requests[1].remote_port);  // one TLS session, kept alive
}

TEST_F(HttpClientTlsTest, UnknownCertificateFailsVerificationWithoutRetry) {
  auto r = MakeHttpClient(Options())->CheckHealth("c1");  // system CAs only
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_NE(r.error().message.find("verification"), std::string::npos) << r.error().message;
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"connection_error"}));
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(HttpClientTlsTest, InsecureSkipVerifyAcceptsAnyCertificate) {
  ClientOptions o = Options();
  o.insecure_skip_verify = true;
  auto r = MakeHttpClient(o)->ListConnections();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->size(), 1u);
}

TEST_F(HttpClientTlsTest, UnreadableCaFileIsAConnectionError) {
  ClientOptions o = Options();
  o.ca_file = dir_ + "/missing.pem";
  auto r = MakeHttpClient(o)->ListConnections();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_NE(r.error().message.find("CA certificates"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hdm::hotdata::testing
