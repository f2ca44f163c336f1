#include "policy/recent_answers.h"

#include <iterator>

namespace hdm::policy {

void RecentAnswers::Put(const std::string& id, bool healthy, SysTime at) {
  auto found = latest_.find(id);
  if (found != latest_.end()) {
    Erase(found->second);
    latest_.erase(found);
  }
  auto it = by_time_.insert(Entry{.at = at, .id = id, .healthy = healthy}).first;
  latest_.emplace(id, it);
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

void RecentAnswers::Erase(Ordered::iterator it) {
  if (it->at >= oldest_) {
    --counts_.recent;
    if (!it->healthy) --counts_.unhealthy;
  }
  if (it == window_begin_) ++window_begin_;
  by_time_.erase(it);
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
