// ParseDuration / FormatDuration. Properties:
//  - a parsed duration is not negative and formats back to text that parses to the same value;
//  - FormatDuration is canonical: formatting that reparsed value gives the same text;
//  - any non-negative count of milliseconds (taken from the input's bytes) survives
//    Format -> Parse unchanged.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "config/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = hdm::fuzz::AsText(data, size);
  if (const auto parsed = hdm::ParseDuration(text)) {
    FUZZ_CHECK(parsed->count() >= 0, "negative duration from " + std::string(text));
    const std::string formatted = hdm::FormatDuration(*parsed);
    const auto again = hdm::ParseDuration(formatted);
    FUZZ_CHECK(again.has_value(), std::string(text) + " formats as unparsable " + formatted);
    FUZZ_CHECK(*again == *parsed, std::string(text) + " -> " + formatted + " changed the value");
    FUZZ_CHECK(hdm::FormatDuration(*again) == formatted, "FormatDuration not canonical");
  }
  if (size >= sizeof(int64_t)) {
    int64_t count = 0;
    std::memcpy(&count, data, sizeof count);
    const hdm::Millis d{count};
    const std::string formatted = hdm::FormatDuration(d);
    const auto parsed = hdm::ParseDuration(formatted);
    if (count >= 0) {
      FUZZ_CHECK(parsed && *parsed == d, std::to_string(count) + "ms formats as " + formatted +
                                             ", which does not parse back");
    } else {
      FUZZ_CHECK(!parsed.has_value(), "negative " + formatted + " parsed");
    }
  }
  return 0;
}
