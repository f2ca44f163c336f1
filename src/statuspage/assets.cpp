#include "statuspage/assets.h"

namespace hdm::statuspage {
namespace {

constexpr std::string_view kScript =
    R"JS(// hotdata-monitor status page: refreshes the live block in place.
"use strict";
(function () {
  const form = document.getElementById("filter");
  const input = document.getElementById("q");
  const note = document.getElementById("refresh");
  let live = document.getElementById("live");
  if (!form || !input || !note || !live) return;
  let timer = 0;
  let typing = 0;
  let generation = 0;
  let inflight = null;

  function period() {
    return Math.max(2, Number(live.dataset.refresh) || 5) * 1000;
  }
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }
  function fragmentUrl(q) {
    return "/?fragment=1" + (q ? "&q=" + encodeURIComponent(q) : "");
  }
  async function refresh() {
    const mine = ++generation;
    if (inflight) inflight.abort();
    const controller = new AbortController();
    inflight = controller;
    try {
      const response = await fetch(fragmentUrl(input.value), {
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const text = await response.text();
      if (mine !== generation) return;
      const parsed = new DOMParser().parseFromString(text, "text/html");
      const next = parsed.getElementById("live");
      if (!next) throw new Error("no live block in the answer");
      const adopted = document.adoptNode(next);
      live.replaceWith(adopted);
      live = adopted;
      note.textContent = "Live: updated " + new Date().toLocaleTimeString() + ", every " +
          period() / 1000 + " s.";
      note.className = "";
    } catch (error) {
      if (error.name === "AbortError") return;
      note.textContent = "Refresh failed (" + error.message + "); the data below is from " +
          live.dataset.rendered + ". Trying again.";
      note.className = "stale";
    } finally {
      if (mine === generation) {
        inflight = null;
        schedule(period());
      }
    }
  }
  function filterNow() {
    clearTimeout(typing);
    const q = input.value;
    history.replaceState(null, "", q ? "/?q=" + encodeURIComponent(q) : "/");
    refresh();
  }
  input.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(filterNow, 250);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    filterNow();
  });
  note.textContent = "Live: refreshes every " + period() / 1000 + " s.";
  schedule(period());
})();
)JS";

constexpr std::string_view kStyle = R"CSS(/* hotdata-monitor status page */
:root { --ok: #17753a; --bad: #b3261e; --warn: #8a5a00; --unk: #5f6368; --line: #d0d7de; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 1.5rem 2rem;
  color: #1f2328; background: #fff; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: 0.8rem 0 0.4rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
nav a { margin-right: 0.8rem; }
form#filter { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin: 0.4rem 0; }
input#q { min-width: 26rem; padding: 0.3rem 0.5rem; font: inherit; }
#refresh { color: var(--unk); font-size: 0.9em; }
#refresh.stale { color: var(--bad); font-weight: 600; }
dl.facts { display: flex; flex-wrap: wrap; gap: 0.2rem 1.5rem; margin: 0.6rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dt::after { content: ":"; }
dl.facts dd { margin: 0 0 0 -1.2rem; }
.counts { font-size: 1.05rem; }
.pill { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem; font-weight: 600;
  border: 1px solid currentColor; }
.pill.ok, .st.ok, li.ok b { color: var(--ok); }
.pill.bad, .st.bad, li.bad b { color: var(--bad); }
.pill.warn, .st.warn, li.warn b, small.warn { color: var(--warn); }
.pill.unk, .st.unk, .pill.none { color: var(--unk); }
.st { font-weight: 600; white-space: nowrap; }
ul.safety { display: flex; flex-wrap: wrap; gap: 0.3rem 0.6rem; margin: 0; padding: 0;
  list-style: none; }
ul.safety li { padding: 0.15rem 0.6rem; border: 1px solid var(--line); border-radius: 0.3rem; }
ul.safety li.bad { border-color: var(--bad); background: #fdecea; }
ul.safety li.warn { border-color: var(--warn); background: #fff4e0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
tr.unhealthy { background: #fdecea; }
td small { display: block; color: var(--unk); overflow-wrap: anywhere; }
td small.warn { color: var(--warn); }
td:nth-child(n+5) { white-space: nowrap; }
table.decisions td:nth-child(n+5) { white-space: normal; }
table.decisions td:nth-child(-n+2), time { white-space: nowrap; }
code { font-size: 0.92em; }
.more, .empty, .shown { color: var(--unk); }
)CSS";

constexpr std::string_view kIcon =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
    "<circle cx=\"8\" cy=\"8\" r=\"7\" fill=\"#17753a\"/>"
    "<path d=\"M3 8h3l1.5-3 2 6 1.5-3h2\" fill=\"none\" stroke=\"#fff\" stroke-width=\"1.5\"/>"
    "</svg>\n";

}  // namespace

std::string_view Icon() { return kIcon; }
std::string_view Script() { return kScript; }
std::string_view Style() { return kStyle; }

}  // namespace hdm::statuspage
