/* CivicGrid pages: uploads that survive a dropped connection and show their progress, and small
   helpers. No dependencies. */
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

  // One POST with XMLHttpRequest (fetch cannot tell how much of a photo has gone up): resolves with
  // the answer (after redirects: the last page), rejects when no answer came at all.
  function post(url, body, progress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.withCredentials = true;
      if (progress && xhr.upload) {
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) { progress(e.loaded, e.total); } };
      }
      xhr.onload = function () { resolve({ status: xhr.status, html: xhr.responseText, url: xhr.responseURL }); };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { reject(new Error("no answer")); };
      xhr.send(body);
    });
  }

  function megabytes(n) { var mb = n / 1048576; return mb >= 0.095 ? mb.toFixed(1) : Math.max(mb, 0.01).toFixed(2); }

  // A refused form (4xx) of a form marked data-in-place: the fields' errors are put in place on the
  // page as it stands — chosen photos, the map and what was typed stay — instead of loading the
  // answer as a new page (which would empty the file inputs).
  function errorsInPlace(form, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = form.id ? doc.getElementById(form.id) : null;
    if (!fresh) { return false; }
    var first = null;
    form.querySelectorAll("[data-errors]").forEach(function (box) {
      var other = fresh.querySelector('[data-errors="' + box.dataset.errors + '"]');
      var nodes = other ? Array.prototype.map.call(other.childNodes, function (n) { return document.importNode(n, true); }) : [];
      box.replaceChildren.apply(box, nodes);
      if (!first && box.querySelector(".errorlist")) { first = box; }
    });
    var key = fresh.querySelector("input[name=idempotency_key]"), mine = form.querySelector("input[name=idempotency_key]");
    if (key && mine && key.value) { mine.value = key.value; }
    if (first) { first.scrollIntoView({ block: "center" }); }
    return true;
  }

  // A form marked data-retry is sent in the background with an idempotency key made once per form.
  // When the connection drops (no answer at all), the same POST with the same key is sent again: the
  // server answers a repeated key with the first result, so nothing is reported twice. A form's
  // <progress> shows how much has gone up. Before sending, the form gets a cancellable "cg:send"
  // event (a page's own checks may stop the sending).
  function retrying(form) {
    var key = form.querySelector("input[name=idempotency_key]");
    if (!key) {
      key = document.createElement("input"); key.type = "hidden"; key.name = "idempotency_key";
      form.appendChild(key);
    }
    if (!key.value) { key.value = newKey(); }
    var status = form.querySelector(".status"), bar = form.querySelector("progress");
    var busy = false;
    form.addEventListener("submit", async function (ev) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      ev.preventDefault();
      if (busy) { return; }
      if (!form.dispatchEvent(new CustomEvent("cg:send", { cancelable: true, detail: { submitter: ev.submitter } }))) { return; }
      busy = true;
      var button = form.querySelector("button[type=submit]:not([name]), button.primary");
      var body = new FormData(form);
      if (ev.submitter && ev.submitter.name) { body.append(ev.submitter.name, ev.submitter.value); }
      if (button) { button.disabled = true; }
      var done = function () { busy = false; if (button) { button.disabled = false; } if (bar) { bar.hidden = true; } };
      var progress = function (sent, total) {
        var percent = Math.floor(100 * sent / total);
        if (bar) { bar.hidden = false; bar.value = percent; }
        if (status && form.dataset.sending && total > 65536) {  // a form with photos says how far it is
          status.textContent = form.dataset.sending.replace("{percent}", percent + "%")
            .replace("{sent}", megabytes(sent)).replace("{total}", megabytes(total));
        }
      };
      var waits = [1000, 2000, 4000, 8000, 15000, 30000];
      for (var attempt = 0; ; attempt++) {
        try {
          var answer = await post(form.action || window.location.href, body, progress);
          if (form.hasAttribute("data-in-place") && answer.status >= 400 && answer.status < 500 &&
              answer.status !== 429 && errorsInPlace(form, answer.html)) {
            if (status) { status.textContent = form.dataset.invalid || ""; }
            done();
            form.dispatchEvent(new CustomEvent("cg:refused", { bubbles: true }));
            return;
          }
          // the answer is the page itself (after a redirect: the next page, with its "done" message,
          // which a second request would no longer show)
          show(answer.html, answer.url);
          return;
        } catch (err) {
          if (attempt >= waits.length) {
            if (status) { status.textContent = form.dataset.failed || "Failed"; }
            done();
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
  window.CivicGrid = { init: init, newKey: newKey, megabytes: megabytes };
})();
