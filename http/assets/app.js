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
      .then(function (r) {
        // The session ended: reloading takes the page to the sign-in form.
        if (r.status === 401) { window.location.reload(); }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) { document.getElementById("risky").innerHTML = html; })
      .catch(function () { /* keep the rows we have; the next tick retries */ });
  }

  // Live charts: one point per frame, the last 300 kept. The failure ratio
  // is of the events since the previous frame; the challenge rate is the
  // engine's running figure.
  var charts = { points: [[], [], [], []], prev: null, rate: null, ratios: null };

  function makeChart(id, series) {
    var el = document.getElementById(id);
    if (!el || typeof uPlot === "undefined") { return null; }
    var opts = { width: el.clientWidth || 480, height: 180, series: [{}].concat(series),
      axes: [{}, { size: 50 }], legend: { show: true } };
    return new uPlot(opts, [[], []].concat(series.length > 1 ? [[]] : []), el);
  }

  function chart(stats) {
    var p = charts.points, prev = charts.prev;
    charts.prev = stats;
    if (!prev) { return; }
    var dEvents = stats.events - prev.events, dFail = stats.failures - prev.failures;
    p[0].push(Date.parse(stats.time) / 1000);
    p[1].push(stats.events_per_second || 0);
    p[2].push(dEvents > 0 ? 100 * dFail / dEvents : 0);
    p[3].push(100 * (stats.challenge_rate || 0));
    if (p[0].length > 300) { p.forEach(function (a) { a.shift(); }); }
    if (!charts.rate) {
      charts.rate = makeChart("chart-rate", [{ label: "logins/s", stroke: "#1d4ed8", width: 2 }]);
      charts.ratios = makeChart("chart-ratios", [
        { label: "failed %", stroke: "#b91c1c", width: 2 },
        { label: "challenged %", stroke: "#b45309", width: 2 }]);
    }
    if (charts.rate) { charts.rate.setData([p[0], p[1]]); }
    if (charts.ratios) { charts.ratios.setData([p[0], p[2], p[3]]); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var stream = new EventSource("/api/v1/stream");
    stream.addEventListener("stats", function (e) {
      var stats;
      try { stats = JSON.parse(e.data); update(stats); setLive(true, "Live"); } catch (err) { setLive(false, "Bad update"); return; }
      try { chart(stats); } catch (err) { /* charts are an extra; the counters go on */ }
    });
    stream.onerror = function () { setLive(false, "Reconnecting…"); };
    setInterval(refreshRisky, 2000);
  });
})();
