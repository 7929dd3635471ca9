/* CivicGrid pages: uploads that survive a dropped connection, and small helpers. No dependencies. */
(function () {
  "use strict";

  function newKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function show(html, url) {
    if (url && url !== window.location.href) { history.replaceState(null, "", url); }
    document.open(); document.write(html); document.close();
  }

  // A form marked data-retry is sent with fetch and an idempotency key made once per form. When the
  // connection drops (no answer at all), the same POST with the same key is sent again: the server
  // answers a repeated key with the first result, so nothing is reported twice.
  function retrying(form) {
    var key = form.querySelector("input[name=idempotency_key]");
    if (!key) {
      key = document.createElement("input"); key.type = "hidden"; key.name = "idempotency_key";
      form.appendChild(key);
    }
    if (!key.value) { key.value = newKey(); }
    var status = form.querySelector(".status");
    form.addEventListener("submit", async function (ev) {
      if (!window.fetch || !window.FormData) { return; }
      ev.preventDefault();
      var button = form.querySelector("button[type=submit]:not([name]), button.primary");
      var body = new FormData(form);
      if (ev.submitter && ev.submitter.name) { body.append(ev.submitter.name, ev.submitter.value); }
      if (button) { button.disabled = true; }
      var waits = [1000, 2000, 4000, 8000, 15000, 30000];
      for (var attempt = 0; ; attempt++) {
        try {
          var response = await fetch(form.action || window.location.href,
                                     { method: "POST", body: body, credentials: "same-origin" });
          var html = await response.text();
          // the answer is the page itself (after a redirect: the next page, with its "done" message,
          // which a second request would no longer show)
          show(html, response.url);
          return;
        } catch (err) {
          if (attempt >= waits.length) {
            if (status) { status.textContent = form.dataset.failed || "Failed"; }
            if (button) { button.disabled = false; }
            return;
          }
          if (status) { status.textContent = form.dataset.retrying || "Retrying…"; }
          await sleep(waits[attempt]);
        }
      }
    });
  }

  function init(root) {
    root.querySelectorAll("form[data-retry]").forEach(function (f) {
      if (!f.dataset.retryReady) { f.dataset.retryReady = "1"; retrying(f); }
    });
    // "use this" buttons of the category suggestion fill the category select
    root.querySelectorAll("[data-set-category]").forEach(function (b) {
      if (b.dataset.ready) { return; } b.dataset.ready = "1";
      b.addEventListener("click", function () {
        var select = document.getElementById("id_category");
        if (select) { select.value = b.dataset.setCategory; }
      });
    });
  }

  // The 12345 desk's "use this answer" buttons copy a knowledge-base answer into the reply. Here, not
  // in the page, because the Content-Security-Policy runs no inline script.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-use-answer]");
    var field = document.getElementById("id_answer");
    var answer = b && b.parentNode.querySelector(".kb-answer");
    if (field && answer) { field.value = answer.textContent; }
  });

  // the number looked up on the 12345 desk is the caller's: put it on the call form when it has none yet
  document.addEventListener("submit", function (ev) {
    if (!ev.target || ev.target.id !== "caller-form") { return; }
    var to = document.getElementById("id_reporter_phone");
    var from = document.getElementById("id_phone_find");
    if (to && from && !to.value.trim()) { to.value = from.value.trim(); }
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
  window.CivicGrid = { init: init, newKey: newKey };
})();
