// FakeRawServer: a scripted HTTP server on raw sockets, for the answers that an HTTP library
// will not give: dripped byte by byte, stopped halfway, held open in silence, streamed forever,
// or not HTTP at all. Plain HTTP on 127.0.0.1.
//
// Per accepted connection it reads one request (head and Content-Length body), records it and
// plays the script that matches its path: steps of bytes, then an end (close, hold, stream, or
// read the next request on the same connection). A request no script matches is relayed to the
// upstream port when one is set (a FakeHotdataServer: the rest of the API keeps working),
// else the connection is closed.
//
// Thread-safe. Stop() wakes every wait and joins every thread: nothing stays blocked.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace hdm::fake {

struct RawStep {
  std::string bytes;
  std::chrono::milliseconds pause_before{0};
  size_t chunk = 0;                  // bytes per write; 0: all of `bytes` in one write
  std::chrono::milliseconds gap{0};  // between two writes of one step
  std::chrono::milliseconds pause_after{0};
};

// What the connection does once the steps are played.
enum class RawEnd {
  kClose,      // closes it
  kHold,       // keeps it open and silent until the client closes it or Stop()
  kStream,     // sends `filler` again and again until the client closes it or Stop()
  kKeepAlive,  // reads the next request on it and plays that request's script
};

struct RawScript {
  std::string path;  // the request path to match, without the query; empty: any
  std::vector<RawStep> steps;
  RawEnd end = RawEnd::kClose;
  std::string filler = "x";  // for kStream
  int times = -1;            // how many requests it answers; -1: any number
};

struct RawRequest {
  std::string line;  // the request line, e.g. "GET /v1/connections HTTP/1.1"
  std::string method;
  std::string path;    // as sent, without the query
  int connection = 0;  // 1 for the first accepted connection, 2 for the next...
  std::chrono::steady_clock::time_point at;  // when its head had been read
};

// A whole answer: status line, Content-Type JSON, Content-Length, `extra_headers` (each line
// ending in "\r\n"), blank line, body.
std::string RawAnswer(int status, const std::string& body, const std::string& extra_headers = "");

// A step that sends `bytes` one byte per write, `gap` apart.
RawStep Drip(std::string bytes, std::chrono::milliseconds gap);

class FakeRawServer {
 public:
  FakeRawServer();
  ~FakeRawServer();  // Stop()s
  FakeRawServer(const FakeRawServer&) = delete;
  FakeRawServer& operator=(const FakeRawServer&) = delete;

  // Binds 127.0.0.1:0 and accepts from a background thread; returns the port, -1 on failure.
  // A server is started once.
  int Start();
  // Ends every pause, hold and stream, closes every socket and joins every thread.
  void Stop();
  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT"

  // The most recently added script that matches and has answers left wins.
  void Script(RawScript script);
  // Requests that no script matches are relayed to 127.0.0.1:`port` with "Connection: close";
  // the answer comes back as the upstream sent it and the connection is then closed.
  void RelayTo(int port);

  std::vector<RawRequest> Requests() const;
  size_t CountRequests(const std::string& path) const;
  int Accepted() const;     // connections accepted so far
  int OpenSockets() const;  // accepted connections not closed yet

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hdm::fake
