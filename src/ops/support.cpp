// Helpers shared by the subcommands: failing, confirming, fanning out.
#include <algorithm>
#include <atomic>
#include <istream>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "ops/subcommands.h"

namespace hdm::ops {

int Fail(const OpsContext& ctx, const OpsError& error) {
  ctx.err << "hotdata-monitor: " << error.message << "\n";
  return error.exit_code;
}

bool Confirm(const OpsContext& ctx, const std::string& question) {
  ctx.err << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(ctx.in, answer)) {
    ctx.err << "\n";
    return false;
  }
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  answer.erase(0, answer.find_first_not_of(" \t\r"));
  answer.erase(answer.find_last_not_of(" \t\r") + 1);
  return answer == "y" || answer == "yes";
}

void ForEachParallel(const OpsContext& ctx, size_t n, size_t threads,
                     const std::function<void(hotdata::HotdataApi&, size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    auto api = ctx.make_api();
    for (size_t i = next++; i < n; i = next++) fn(*api, i);
  };
  const size_t count = std::clamp<size_t>(std::min(threads, n), 1, 64);
  std::vector<std::jthread> pool;
  for (size_t t = 1; t < count; ++t) pool.emplace_back(work);
  work();
}  // the jthreads join here

}  // namespace hdm::ops
