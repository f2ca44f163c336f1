// hdm-bench-burst: a burst of concurrent /metrics scrapes against a running monitor, timed from
// the client side.
//
//   hdm-bench-burst --port P [--scrapers 300] [--gzip-every 2] [--timeout-s 60]
//
// Opens every connection first, then sends every request at once (every `gzip-every`-th asks for
// gzip) and reads all answers in one epoll loop, counting body bytes against Content-Length. A
// scrape is complete when it got 200 and its whole body; a plain body must end in a newline, a
// gzip body must inflate to one that does (checked after the clock stopped). Prints one JSON
// object: wall time from the first request sent to the last byte read, per-scrape latency
// (median, p90, max), how many completed, and the bytes read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Scrape {
  int fd = -1;
  bool gzip = false;
  std::string head;     // until the end of the header section
  size_t head_end = 0;  // 0 until found
  int status = 0;
  size_t length = 0;  // Content-Length
  size_t body_read = 0;
  std::string body;  // kept for gzip answers only (checked after the clock)
  char last = 0;     // the last body byte
  bool done = false;
  bool failed = false;
  double ms = 0;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Takes `data` into `s`; true once the answer is whole.
bool Take(Scrape& s, const char* data, size_t n) {
  if (s.head_end == 0) {
    s.head.append(data, n);
    const size_t end = s.head.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    s.head_end = end + 4;
    s.status = std::atoi(s.head.c_str() + 9);
    for (const char* name : {"Content-Length:", "content-length:"}) {
      if (const size_t at = s.head.find(name); at != std::string::npos && at < end) {
        s.length = std::strtoull(s.head.c_str() + at + std::strlen(name), nullptr, 10);
      }
    }
    const std::string rest = s.head.substr(s.head_end);
    s.head.resize(s.head_end);
    data = rest.data();
    n = rest.size();
    if (s.gzip) s.body.append(data, n);
    s.body_read += n;
    if (n > 0) s.last = data[n - 1];
    return s.body_read >= s.length;
  }
  if (s.gzip) s.body.append(data, n);
  s.body_read += n;
  if (n > 0) s.last = data[n - 1];
  return s.body_read >= s.length;
}

bool InflatesToText(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::vector<char> out(1 << 20);
  char last = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t got = out.size() - z.avail_out;
    if (got > 0) last = out[got - 1];
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && last == '\n';
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int scrapers = 300;
  int gzip_every = 2;
  int timeout_s = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--port")
      port = value;
    else if (flag == "--scrapers")
      scrapers = value;
    else if (flag == "--gzip-every")
      gzip_every = value;
    else if (flag == "--timeout-s")
      timeout_s = value;
  }
  if (port <= 0 || scrapers <= 0) {
    std::fprintf(stderr, "usage: hdm-bench-burst --port P [--scrapers N] [--gzip-every K]\n");
    return 2;
  }
  std::vector<Scrape> s(static_cast<size_t>(scrapers));
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < scrapers; ++i) {
    s[i].fd = Connect(port);
    s[i].gzip = gzip_every > 0 && i % gzip_every == gzip_every - 1;
    epoll_event ev{.events = EPOLLIN, .data = {.u32 = static_cast<uint32_t>(i)}};
    epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &ev);
  }
  const auto start = Clock::now();
  for (auto& x : s) {
    const std::string req = std::string("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                            (x.gzip ? "Accept-Encoding: gzip\r\n" : "") +
                            "Connection: close\r\n\r\n";
    if (::send(x.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      x.failed = true;
    }
  }
  int open = scrapers;
  std::vector<char> buf(1 << 18);
  std::vector<epoll_event> events(256);
  const auto deadline = start + std::chrono::seconds(timeout_s);
  while (open > 0 && Clock::now() < deadline) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    for (int e = 0; e < n; ++e) {
      Scrape& x = s[events[e].data.u32];
      const ssize_t got = ::recv(x.fd, buf.data(), buf.size(), 0);
      bool finished = false;
      if (got > 0) {
        finished = Take(x, buf.data(), static_cast<size_t>(got));
        x.done = finished;
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        finished = true;  // closed before the whole body: incomplete
      }
      if (finished) {
        x.ms = Ms(Clock::now() - start);
        epoll_ctl(ep, EPOLL_CTL_DEL, x.fd, nullptr);
        ::close(x.fd);
        x.fd = -1;
        --open;
      }
    }
  }
  const double wall = Ms(Clock::now() - start);
  int complete = 0;
  size_t bytes = 0;
  std::vector<double> latencies;
  for (auto& x : s) {
    if (x.fd >= 0) ::close(x.fd);
    bytes += x.body_read;
    const bool whole = x.done && !x.failed && x.status == 200 && x.body_read == x.length &&
                       (x.gzip ? InflatesToText(x.body) : x.last == '\n');
    if (whole) {
      ++complete;
      latencies.push_back(x.ms);
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<size_t>(q * latencies.size()))];
  };
  std::printf(
      "{\"scrapers\": %d, \"complete\": %d, \"wall_ms\": %.1f, \"median_ms\": %.1f, "
      "\"p90_ms\": %.1f, \"max_ms\": %.1f, \"bytes\": %zu}\n",
      scrapers, complete, wall, at(0.5), at(0.9), latencies.empty() ? 0.0 : latencies.back(),
      bytes);
  return complete == scrapers ? 0 : 1;
}
