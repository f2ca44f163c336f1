// RecentAnswers: the latest valid health answer of each connection, and how many of those fall
// in a time window [oldest, now] and how many of them were unhealthy, the inputs of the outage
// pause. Counting costs O(log n) per answer, amortised, instead of a pass over every connection:
// the window only moves forward in practice, so each answer enters and leaves it about once.
//
// Not thread-safe (the engine's owner serialises calls).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "common/clock.h"

namespace hdm::policy {

class RecentAnswers {
 public:
  struct Counts {
    int64_t recent = 0;
    int64_t unhealthy = 0;
    bool operator==(const Counts&) const = default;
  };

  // Replaces the connection's latest answer.
  void Put(const std::string& id, bool healthy, SysTime at);
  // Forgets the connection (it left the fleet).
  void Remove(const std::string& id);
  // Answers at or after `oldest`, and the unhealthy ones among them. `oldest` may move either
  // way between calls; a step back costs a walk over the answers it takes back in.
  Counts CountSince(SysTime oldest);
  // The wall clock stepped by `d`: every answer's time moves with it (the window keeps what it
  // holds).
  void Shift(SysTime::duration d);
  size_t size() const { return latest_.size(); }

 private:
  struct Entry {
    SysTime at;
    std::string id;
    bool healthy;
    bool operator<(const Entry& o) const {
      return std::tie(at, id, healthy) < std::tie(o.at, o.id, o.healthy);
    }
  };
  using Ordered = std::set<Entry>;

  void Uncount(Ordered::iterator it);  // takes it out of counts_, if inside the window
  void Erase(Ordered::iterator it);

  std::map<std::string, Ordered::iterator> latest_;  // by connection id
  Ordered by_time_;
  // The window: entries from window_begin_ to the end, all with at >= oldest_; counts_ counts
  // them.
  SysTime oldest_ = SysTime::min();
  Ordered::iterator window_begin_ = by_time_.end();
  Counts counts_;
};

}  // namespace hdm::policy
