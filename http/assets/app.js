// Firebreak live page: the counters follow the server-sent stats stream
// (/api/v1/stream) and the high-risk table is refreshed from a fragment the
// server renders and escapes (/partials/risky). No dependencies.
(function () {
  "use strict";

  var sourceHelp = {
    budget: "derived from the observed scores to keep within the challenge budget",
    fixed: "fixed in the policy",
    warmup: "warming up: not enough scores seen yet, every login is allowed"
  };
  var formats = {
    int: function (v) { return Math.round(v).toLocaleString("en-US"); },
    rate: function (v) { return v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString("en-US"); },
    pct: function (v) { return (v * 100).toFixed(2) + "%"; },
    score: function (v) { return v.toFixed(2); },
    text: function (v) { return String(v); },
    sourceHelp: function (v) { return sourceHelp[v] || "unknown"; }
  };

  function lookup(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  function update(stats) {
    document.querySelectorAll("[data-stat]").forEach(function (el) {
      var v = lookup(stats, el.dataset.stat);
      if (v === undefined || v === null) { v = 0; }
      el.textContent = (formats[el.dataset.format] || formats.int)(v);
    });
    var meter = document.getElementById("budget-meter");
    if (meter) {
      meter.max = stats.challenge_budget > 0 ? 2 * stats.challenge_budget : 1;
      meter.high = stats.challenge_budget > 0 ? stats.challenge_budget : 1;
      meter.value = stats.challenge_rate || 0;
      meter.textContent = formats.pct(stats.challenge_rate || 0);
    }
  }

  function setLive(on, text) {
    var el = document.getElementById("live");
    el.textContent = text;
    el.classList.toggle("on", on);
  }

  function refreshRisky() {
    if (document.hidden) { return; }
    fetch("/partials/risky", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { document.getElementById("risky").innerHTML = html; })
      .catch(function () { /* keep the rows we have; the next tick retries */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var stream = new EventSource("/api/v1/stream");
    stream.addEventListener("stats", function (e) {
      try { update(JSON.parse(e.data)); setLive(true, "Live"); } catch (err) { setLive(false, "Bad update"); }
    });
    stream.onerror = function () { setLive(false, "Reconnecting…"); };
    setInterval(refreshRisky, 2000);
  });
})();
