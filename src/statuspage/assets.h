// The status page's own script and stylesheet (served at /status.js and /status.css, compiled
// into the binary: no file to install, nothing from another origin) and the headers its
// responses carry.
#pragma once

#include <string_view>

namespace hdm::statuspage {

// Only the page's own origin: no inline script, no inline style, no other site, no framing.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

inline constexpr std::string_view kScriptType = "text/javascript; charset=utf-8";
inline constexpr std::string_view kStyleType = "text/css; charset=utf-8";
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

// /status.js: every few seconds (the live block's data-refresh), fetches /?fragment=1&q=FILTER
// with the filter box's text and swaps the live block in place; typing in the filter box asks the
// server at once (and puts ?q= in the address bar). The box keeps its text and focus: it is not
// part of what is swapped. A failed refresh says so on the page and is tried again.
std::string_view Script();
// /status.css.
std::string_view Style();
// /favicon.svg: without an icon of its own, a browser asks for /favicon.ico and logs its 404.
std::string_view Icon();
inline constexpr std::string_view kIconType = "image/svg+xml";

}  // namespace hdm::statuspage
