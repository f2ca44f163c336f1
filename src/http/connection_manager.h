// ConnectionManager: the life of the monitor's server connections, so that clients that are slow
// or silent cannot take the server from others (slowloris), and a burst of scrapes is served.
//
//   accepted ──> parked ──(readable)──> queued ──> served on a worker ──> parked (keep-alive)
//      │           │ no byte by the deadline: closed           │ request not in by the deadline,
//      │           │                                           │ error, "Connection: close", or
//      └ over max_connections: 503 and closed                  └ max_requests reached: closed
//
// A parked connection waits for the first byte of its next request in one epoll set: it costs a
// file descriptor and a few hundred bytes, no thread. A readable one goes to an ElasticPool of up
// to max_workers threads (beyond that it waits its turn in the pool's queue, still holding no
// thread); from there the whole request (line, headers, body) must arrive within read_timeout,
// which bounds how long a client that drips its headers byte by byte can hold a thread.
//
// Thread-safe.
#pragma once

#include <openssl/ssl.h>
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "http/connection.h"
#include "http/elastic_pool.h"
#include "http/request_parser.h"

namespace hdm {

struct ConnectionLimits {
  // Open at once (parked, queued or served); beyond, a new connection gets 503 and is closed
  // (over TLS: closed).
  int max_connections = 512;
  int max_workers = 64;  // requests served at once; beyond, requests wait their turn
  // For a request to arrive whole once its first byte is there; also how long a new connection
  // may stay silent, and how long a TLS handshake may take.
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{2'000};  // keep-alive: wait for the next request
  // For a whole response to be written, however slowly the client reads (Prometheus gives up
  // on a scrape after its scrape_timeout, 10 s by default, anyway).
  std::chrono::milliseconds write_timeout{10'000};
  int max_requests_per_connection = 100;
  std::chrono::milliseconds worker_idle_exit{10'000};  // an idle worker thread exits after this
  RequestLimits request;  // sizes of a request line, its header fields and body
};

class ConnectionManager {
 public:
  // Reads one request from `c` through `parser` (which keeps the bytes of a pipelined next one)
  // and answers it within `write_timeout`, with "Connection: close" when `last`. True: the
  // connection stays open for another request; false: it is to be closed (an error, the
  // client's wish, `last`, or the answer not written in time).
  using ServeOne = std::function<bool(Connection& c, RequestParser& parser, bool last,
                                      std::chrono::milliseconds write_timeout)>;

  // `tls`: the context of TLS connections, null for plain HTTP; must outlive this.
  ConnectionManager(ConnectionLimits limits, SSL_CTX* tls, ServeOne serve);
  ~ConnectionManager();  // Stop()s
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  // Takes an accepted socket. Never blocks: call it on the accepting thread.
  void Adopt(int fd);
  // Closes every connection (requests being answered end at their next read or write) and
  // joins every thread. Connections adopted afterwards are closed at once.
  void Stop();

  struct Stats {
    int open = 0;
    int parked = 0;
    int queued = 0;  // readable, waiting for a worker
    int worker_threads = 0;
    int peak_worker_threads = 0;
    uint64_t refused = 0;  // over max_connections
  };
  Stats stats() const;

 private:
  using Clock = Connection::Clock;
  struct Entry {
    std::unique_ptr<Connection> conn;
    RequestParser parser;
    Clock::time_point deadline;  // while parked
    int served = 0;              // requests answered
  };

  bool Admit();  // counts a new connection in, unless over the limit or stopping
  void Refuse(int fd);
  void Wake();  // makes the waiter recompute its deadlines
  void Park(std::unique_ptr<Entry> e, Clock::time_point deadline);
  void Drop(std::unique_ptr<Entry> e);
  void WaitForRequests();  // the waiter thread
  int TakeReadyAndExpired(const epoll_event* events, int n,
                          std::vector<std::unique_ptr<Entry>>& ready,
                          std::vector<std::unique_ptr<Entry>>& expired);
  void Serve(std::unique_ptr<Entry> e);  // on a worker
  bool ServeRequests(Entry& e);

  const ConnectionLimits limits_;
  SSL_CTX* const tls_;
  const ServeOne serve_;
  const int epoll_fd_;
  const int wake_fd_;  // eventfd in the epoll set: Stop() wakes the waiter with it

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::unordered_map<int, std::unique_ptr<Entry>> parked_;  // by fd
  std::unordered_set<Connection*> serving_;
  int open_ = 0;
  uint64_t refused_ = 0;
  bool refusing_ = false;  // the last adopted connection was refused (logged once per spell)
  bool stopping_ = false;
  Clock::time_point waiter_wakes_at_ = Clock::time_point::max();  // at the latest

  ElasticPool pool_;
  std::thread waiter_;
};

}  // namespace hdm
