// Firebreak dashboard pages: htmx settings for the pages' strict
// Content-Security-Policy, and what to do with the server's refusals.
(function () {
  "use strict";
  if (typeof htmx === "undefined") { return; }

  // htmx would add an inline <style> and evaluate hx-on attributes; the
  // CSP forbids both and the pages need neither.
  htmx.config.includeIndicatorStyles = false;
  htmx.config.allowEval = false;
  htmx.config.allowScriptTags = false;

  // A refusal the server marks as a fragment (the plan form with its
  // errors, a notice) is swapped in although its status is 4xx or 5xx.
  // A signed-out session reloads the page, which leads to the sign-in form.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) { window.location.reload(); return; }
    if (xhr.status >= 400 && xhr.getResponseHeader("Firebreak-Fragment")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // Any other refusal (a whole error page, such as a missing role) shows
  // its message in the page's result area, as text.
  document.addEventListener("htmx:responseError", function (e) {
    var out = document.getElementById("action-result");
    if (!out || e.detail.xhr.getResponseHeader("Firebreak-Fragment")) { return; }
    var doc = new DOMParser().parseFromString(e.detail.xhr.responseText, "text/html");
    var notice = doc.querySelector(".notice");
    var p = document.createElement("p");
    p.className = "notice";
    p.setAttribute("role", "alert");
    p.textContent = notice ? notice.textContent : "The server answered " + e.detail.xhr.status + ".";
    out.replaceChildren(p);
  });
})();
