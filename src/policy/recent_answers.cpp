#include "policy/recent_answers.h"

#include <iterator>

#include "common/saturating_time.h"

namespace hdm::policy {

void RecentAnswers::Put(const std::string& id, bool healthy, SysTime at) {
  auto found = latest_.find(id);
  Ordered::node_type node;
  if (found != latest_.end()) {
    // Reuse the connection's node: no allocation per answer once every connection answered.
    const Ordered::iterator old = found->second;
    Uncount(old);
    if (old == window_begin_) ++window_begin_;
    node = by_time_.extract(old);
    node.value().at = at;
    node.value().healthy = healthy;
  }
  // Answers mostly arrive in time order: the end is the usual place, and a correct hint makes
  // the insertion constant time.
  const Ordered::iterator it =
      node ? by_time_.insert(by_time_.end(), std::move(node))
           : by_time_.insert(by_time_.end(), Entry{.at = at, .id = id, .healthy = healthy});
  if (found != latest_.end()) {
    found->second = it;
  } else {
    latest_.emplace(id, it);
  }
  if (at < oldest_) return;
  ++counts_.recent;
  if (!healthy) ++counts_.unhealthy;
  if (window_begin_ == by_time_.end() || *it < *window_begin_) window_begin_ = it;
}

void RecentAnswers::Remove(const std::string& id) {
  auto found = latest_.find(id);
  if (found == latest_.end()) return;
  Erase(found->second);
  latest_.erase(found);
}

void RecentAnswers::Uncount(Ordered::iterator it) {
  if (it->at < oldest_) return;
  --counts_.recent;
  if (!it->healthy) --counts_.unhealthy;
}

void RecentAnswers::Erase(Ordered::iterator it) {
  Uncount(it);
  if (it == window_begin_) ++window_begin_;
  by_time_.erase(it);
}

void RecentAnswers::Shift(SysTime::duration d) {
  const auto by = std::chrono::duration_cast<std::chrono::milliseconds>(d);
  // Every time moves by the same amount: the order stays, so the nodes move over in order.
  Ordered shifted;
  const bool window_empty = window_begin_ == by_time_.end();
  while (!by_time_.empty()) {
    const bool begins_window = by_time_.begin() == window_begin_;
    auto node = by_time_.extract(by_time_.begin());
    node.value().at = SaturatingAdd(node.value().at, by);
    const Ordered::iterator moved = shifted.insert(shifted.end(), std::move(node));
    latest_[moved->id] = moved;
    if (begins_window) window_begin_ = moved;
  }
  by_time_.swap(shifted);  // iterators stay valid and now point into by_time_
  if (window_empty) window_begin_ = by_time_.end();
  if (oldest_ != SysTime::min()) oldest_ = SaturatingAdd(oldest_, by);
}

RecentAnswers::Counts RecentAnswers::CountSince(SysTime oldest) {
  // Forward: answers older than the new bound leave the window.
  while (window_begin_ != by_time_.end() && window_begin_->at < oldest) {
    --counts_.recent;
    if (!window_begin_->healthy) --counts_.unhealthy;
    ++window_begin_;
  }
  // Back: answers at or after the new bound that were outside come back in.
  while (window_begin_ != by_time_.begin()) {
    auto before = std::prev(window_begin_);
    if (before->at < oldest) break;
    ++counts_.recent;
    if (!before->healthy) ++counts_.unhealthy;
    window_begin_ = before;
  }
  oldest_ = oldest;
  return counts_;
}

}  // namespace hdm::policy
