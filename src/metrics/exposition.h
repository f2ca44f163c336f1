// Building blocks of the Prometheus text exposition format 0.0.4, appended straight into one
// std::string: no streams, no locale, numbers through std::to_chars. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace hdm::metrics {

// Appends `v` as a sample value: integral values up to 2^53 without exponent or fraction
// ("1700000000"), other finite values in their shortest round-trip form, and "+Inf", "-Inf",
// "NaN".
void AppendValue(std::string& out, double v);
void AppendValue(std::string& out, uint64_t v);

// `t` in Unix seconds, rounded once: 1699999999.75 where a plain duration<double> cast gives
// 1699999999.7500002 (it divides a nanosecond count of 2^60 magnitude).
double UnixSeconds(SysTime t);

// Appends `v` escaped as a label value: backslash, double quote and newline become \\, \" and
// \n. The surrounding quotes are not written.
void AppendLabelValue(std::string& out, std::string_view v);

// What describes one family. `name` and `help` are constants: they are written unescaped.
struct FamilyDesc {
  std::string_view name;
  std::string_view help;  // never empty: promtool rejects a family without help
  std::string_view type;  // "gauge", "counter", ...
};

// Writes the samples of one family. The `# HELP` and `# TYPE` lines are written before the first
// sample, so a family without samples leaves no trace. Samples of one family must be written
// through one FamilyWriter, without interleaving another family.
class FamilyWriter {
 public:
  FamilyWriter(std::string& out, const FamilyDesc& desc) : out_(out), desc_(desc) {}

  // `labels` is a complete, already escaped label set such as `{a="x",b="y"}`, or "".
  void Sample(std::string_view labels, double value) {
    Begin(labels);
    AppendValue(out_, value);
    out_ += '\n';
  }
  void Sample(std::string_view labels, uint64_t value) {
    Begin(labels);
    AppendValue(out_, value);
    out_ += '\n';
  }

 private:
  void Begin(std::string_view labels);

  std::string& out_;
  FamilyDesc desc_;
  bool started_ = false;
};

}  // namespace hdm::metrics
