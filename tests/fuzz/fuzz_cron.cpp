// ParseCron and CronSpec evaluation. Properties, for an expression that parses:
//  - every field has at least one value (a spec that can never fire is not "valid");
//  - NextAfter(t), for a t taken from the input, is a whole minute strictly after t that
//    Matches(), and no minute between t and it matches (checked over the first day);
//  - it stays fast: the fuzzer's timeout catches a search that runs away.
// An error is a message under 200 characters plus the offending text.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "config/cron.h"
#include "fuzz_support.h"

namespace {

namespace chr = std::chrono;
using Clock = chr::system_clock;

// The input's first 8 bytes choose an instant between 1970 and 2200; the rest is the text.
Clock::time_point InstantFrom(const uint8_t* data) {
  uint64_t raw = 0;
  std::memcpy(&raw, data, sizeof raw);
  constexpr uint64_t kSpanSeconds = uint64_t{230} * 365 * 86'400;
  return Clock::time_point{} + chr::seconds{static_cast<int64_t>(raw % kSpanSeconds)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(uint64_t)) return 0;
  const Clock::time_point t = InstantFrom(data);
  const std::string_view text = hdm::fuzz::AsText(data + sizeof(uint64_t), size - sizeof(uint64_t));
  const auto spec = hdm::ParseCron(text);
  if (!spec) {
    FUZZ_CHECK(!spec.error().empty(), std::string(text));
    FUZZ_CHECK(spec.error().size() <= 200 + 2 * text.size(), spec.error());
    return 0;
  }
  const std::string ctx = "cron \"" + std::string(text) + "\"";
  FUZZ_CHECK(spec->minutes.any() && spec->hours.any() && spec->days_of_month.any() &&
                 spec->months.any() && spec->days_of_week.any(),
             ctx + " parses to a field with no value");
  FUZZ_CHECK(!spec->months[0] && !spec->days_of_month[0], ctx + " sets month 0 or day 0");

  const Clock::time_point next = spec->NextAfter(t);
  if (next == Clock::time_point::max()) return 0;  // e.g. "0 0 31 2 *"
  FUZZ_CHECK(next > t, ctx + ": NextAfter not after t");
  FUZZ_CHECK(chr::floor<chr::minutes>(next) == next, ctx + ": NextAfter not a whole minute");
  FUZZ_CHECK(spec->Matches(next), ctx + ": NextAfter returned a minute that does not match");
  // No earlier match: walk at most one day of minutes from t.
  const auto first = chr::floor<chr::minutes>(t) + chr::minutes{1};
  for (auto m = first; m < next && m < first + chr::hours{24}; m += chr::minutes{1}) {
    FUZZ_CHECK(!spec->Matches(m), ctx + ": NextAfter skipped a matching minute");
  }
  return 0;
}
