#include "http/accept_encoding.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace hdm {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// q=0, q=0.0, q=0.00, q=0.000: the coding is refused.
bool QualityIsZero(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    const std::string param = Lower(Trim(params.substr(0, semi)));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (!param.starts_with("q=")) continue;
    const std::string_view value = std::string_view(param).substr(2);
    if (value.empty() || value.front() != '0') return false;
    return value.find_first_not_of("0.") == std::string_view::npos;
  }
  return false;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  bool star = false;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string coding = Lower(Trim(item.substr(0, semi)));
    const std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1);
    // An explicit gzip entry decides, whatever * says.
    if (coding == "gzip" || coding == "x-gzip") return !QualityIsZero(params);
    if (coding == "*") star = !QualityIsZero(params);
  }
  return star;
}

}  // namespace hdm
