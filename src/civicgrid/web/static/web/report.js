/* The report page (the resident's 随手拍 and the grid worker's patrol report): says where the pin
   landed, warns before a report with no place or a pin outside every street is sent, says so when
   location permission is refused, checks photos against the server's limits before uploading, and
   offers a photo's own location only for the reporter to confirm. Sending itself (with progress and
   errors shown in place) is app.js's data-retry form. Without JavaScript the form still posts. */
(function () {
  "use strict";

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) { return values[k] === undefined ? m : String(values[k]); });
  }

  function say(el, text) {
    if (!el) { return; }
    el.textContent = text || "";
    el.hidden = !text;
  }

  // --- a photo's own position (EXIF GPS), read here so the reporter can be asked ----------------

  // The TIFF structure inside EXIF: byte order, IFD0 → GPS IFD (tag 0x8825) → latitude (2) with its
  // reference (1, N/S) and longitude (4) with its reference (3, E/W), each three rationals.
  function tiffPosition(view, start) {
    var little = view.getUint16(start) === 0x4949;
    var u16 = function (at) { return view.getUint16(start + at, little); };
    var u32 = function (at) { return view.getUint32(start + at, little); };
    var entries = function (ifd) {
      var found = {}, n = u16(ifd);
      for (var i = 0; i < n && i < 500; i++) {
        var at = ifd + 2 + i * 12;
        found[u16(at)] = { type: u16(at + 2), count: u32(at + 4), at: at + 8 };
      }
      return found;
    };
    if (u16(2) !== 42) { return null; }
    var pointer = entries(u32(4))[0x8825];
    if (!pointer) { return null; }
    var gps = entries(u32(pointer.at));
    var angle = function (e) {
      if (!e || e.type !== 5 || e.count !== 3) { return null; }
      var base = u32(e.at), total = 0;
      for (var i = 0; i < 3; i++) {
        var num = u32(base + i * 8), den = u32(base + i * 8 + 4);
        if (!den) { return null; }
        total += num / den / Math.pow(60, i);
      }
      return total;
    };
    var ref = function (e) { return e ? String.fromCharCode(view.getUint8(start + e.at)) : ""; };
    var lat = angle(gps[2]), lon = angle(gps[4]);
    if (lat === null || lon === null || (lat === 0 && lon === 0) || lat > 90 || lon > 180) { return null; }
    return { lat: ref(gps[1]) === "S" ? -lat : lat, lon: ref(gps[3]) === "W" ? -lon : lon };
  }

  function ascii(view, at, length) {
    var s = "";
    for (var i = 0; i < length && at + i < view.byteLength; i++) { s += String.fromCharCode(view.getUint8(at + i)); }
    return s;
  }

  // Where the EXIF block sits in a JPEG (APP1 "Exif"), a PNG (eXIf chunk) or a WebP (EXIF chunk).
  function exifStart(view) {
    var at;
    if (view.getUint16(0) === 0xFFD8) {
      at = 2;
      while (at + 4 <= view.byteLength && view.getUint8(at) === 0xFF) {
        var marker = view.getUint8(at + 1), size = view.getUint16(at + 2);
        if (marker === 0xE1 && ascii(view, at + 4, 6) === "Exif\0\0") { return at + 10; }
        if (marker === 0xDA) { return null; }  // the image data: no EXIF before it
        at += 2 + size;
      }
      return null;
    }
    if (ascii(view, 1, 3) === "PNG") {
      at = 8;
      while (at + 8 <= view.byteLength) {
        var length = view.getUint32(at), type = ascii(view, at + 4, 4);
        if (type === "eXIf") { return at + 8; }
        if (type === "IEND") { return null; }
        at += 12 + length;
      }
      return null;
    }
    if (ascii(view, 0, 4) === "RIFF" && ascii(view, 8, 4) === "WEBP") {
      at = 12;
      while (at + 8 <= view.byteLength) {
        var fourcc = ascii(view, at, 4), chunk = view.getUint32(at + 4, true);
        if (fourcc === "EXIF") { return ascii(view, at + 8, 6) === "Exif\0\0" ? at + 14 : at + 8; }
        at += 8 + chunk + (chunk % 2);
      }
    }
    return null;
  }

  async function photoPosition(file) {
    try {
      var view = new DataView(await file.slice(0, 1048576).arrayBuffer());
      var start = exifStart(view);
      return start === null ? null : tiffPosition(view, start);
    } catch (err) {
      return null;  // a part the page cannot read: the reporter simply is not asked
    }
  }

  // --- the page ------------------------------------------------------------------------------

  function setup(form) {
    var mapEl = document.getElementById("report-map");
    var lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
    var address = document.getElementById("id_address");
    var where = document.getElementById("where"), warning = document.getElementById("send-warning");
    var here = document.getElementById("use-location"), hereMessage = document.getElementById("location-message");
    var input = document.getElementById("id_photos"), list = document.getElementById("photo-list");
    var check = document.getElementById("photo-check");
    var offer = document.getElementById("photo-location"), usePhoto = document.getElementById("id_use_photo_location");
    var state = { place: null, asked: "", photoProblem: "", photoAt: null, lookup: 0 };

    // "Where did the pin land": the point → grid look-up, named street, community and grid.
    function lookup() {
      state.place = null; state.asked = "";
      if (!lon.value || !lat.value) { say(where, ""); return; }
      var ticket = ++state.lookup;
      say(where, where.dataset.looking);
      fetch(form.dataset.lookup + "?lon=" + encodeURIComponent(lon.value) + "&lat=" + encodeURIComponent(lat.value),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (found) {
          if (ticket !== state.lookup) { return; }  // the pin moved again meanwhile
          if (!found) { say(where, ""); return; }
          state.place = found;
          var names = [found.street, found.community, found.grid].filter(Boolean).map(function (r) { return r.name; });
          where.classList.toggle("warning", found.method !== "grid");
          if (found.method === "grid") {
            say(where, fill(where.dataset.in, { place: names.join(" ") }));
          } else if (found.method === "nearest_community") {
            say(where, fill(where.dataset.near, { place: names.join(" "), metres: Math.round(found.distance_m || 0) }));
          } else {
            say(where, where.dataset.outside);
          }
          say(warning, "");
        })
        .catch(function () { if (ticket === state.lookup) { say(where, ""); } });
    }
    lon.addEventListener("change", lookup);
    if (lon.value && lat.value) { lookup(); }

    function place(latlng, zoom) {
      if (!mapEl || !mapEl.placePin) { return; }
      mapEl.placePin(latlng, "device");
      mapEl.leafletMap.setView(latlng, zoom || 16);
    }

    // "Use my location", and what to do when the browser will not give it.
    if (here) {
      here.addEventListener("click", function () {
        if (!navigator.geolocation) { say(hereMessage, here.dataset.unsupported); return; }
        say(hereMessage, here.dataset.finding);
        navigator.geolocation.getCurrentPosition(function (pos) {
          say(hereMessage, "");
          place(L.latLng(pos.coords.latitude, pos.coords.longitude));
        }, function (err) {
          say(hereMessage, err && err.code === 1 ? here.dataset.denied : here.dataset.unavailable);
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    // Photos: the server's limits checked before anything is uploaded; a photo's own position offered.
    function megabytes(n) { return window.CivicGrid ? window.CivicGrid.megabytes(n) : (n / 1048576).toFixed(1); }
    var offerText = offer ? offer.querySelector("span") : null, offerButton = null;
    if (offer) {
      // With JavaScript the reporter is asked only when a photo carries a position, and sees it first.
      offer.hidden = true;
      usePhoto.checked = false;
      usePhoto.hidden = true;
      offerButton = document.createElement("button");
      offerButton.type = "button"; offerButton.id = "use-photo-location"; offerButton.textContent = offer.dataset.use;
      offer.appendChild(offerButton);
      offerButton.addEventListener("click", function () {
        if (!state.photoAt) { return; }
        usePhoto.checked = true;
        place(L.latLng(state.photoAt.lat, state.photoAt.lon));
        offerText.textContent = offer.dataset.used;
        offerButton.hidden = true;
      });
    }

    async function photosChosen() {
      var files = Array.prototype.slice.call(input.files || []);
      var max = Number(input.dataset.maxBytes) || Infinity, most = Number(input.dataset.maxCount) || Infinity;
      var problems = [];
      if (files.length > most) { problems.push(fill(input.dataset.tooMany, { max: most })); }
      list.replaceChildren.apply(list, files.map(function (f, i) {
        var item = document.createElement("li");
        item.textContent = fill(input.dataset.chosen, { n: i + 1, name: f.name, size: megabytes(f.size) });
        if (f.size > max) {
          item.className = "too-big";
          problems.push(fill(input.dataset.tooBig, { n: i + 1, name: f.name, size: megabytes(f.size), max: megabytes(max) }));
        }
        return item;
      }));
      state.photoProblem = problems.join(" ");
      say(check, state.photoProblem);
      // the first photo that carries a position is offered, never used unasked
      state.photoAt = null;
      if (usePhoto) { usePhoto.checked = false; }
      if (offer) { offer.hidden = true; }
      for (var i = 0; i < files.length; i++) {
        var at = await photoPosition(files[i]);
        if (at) { state.photoAt = at; break; }
      }
      if (offer && state.photoAt) {
        offerText.textContent = offer.dataset.found;
        offerButton.hidden = false;
        offer.hidden = false;
      }
    }
    if (input) {
      input.addEventListener("change", photosChosen);
      if (input.files && input.files.length) { photosChosen(); }
    }

    // Before sending: no place at all, or a pin outside every street, is said once; pressing
    // "send" again sends it as it is. An address without a pin goes, with a word that the centre
    // will place it.
    var changed = function () { state.asked = ""; say(warning, ""); };
    address.addEventListener("input", changed);
    lon.addEventListener("change", changed);
    form.addEventListener("cg:send", function (ev) {
      if (state.photoProblem) {
        ev.preventDefault();
        say(check, state.photoProblem);
        input.focus();
        return;
      }
      var pinned = lon.value && lat.value, addressed = address.value.trim() !== "";
      var reason = "";
      if (!pinned && !addressed) { reason = "no-place"; }
      else if (pinned && state.place && state.place.method === "unassigned") { reason = "outside"; }
      if (reason && state.asked !== reason) {
        ev.preventDefault();
        state.asked = reason;
        warning.dataset.reason = reason;
        say(warning, reason === "no-place" ? warning.dataset.noPlace : warning.dataset.outside);
        warning.scrollIntoView({ block: "center" });
        return;
      }
      if (!pinned && addressed) {
        warning.dataset.reason = "address-only";
        say(warning, warning.dataset.addressOnly);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-form");
    if (form) { setup(form); }
  });
})();
