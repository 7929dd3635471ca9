/* Maps with Leaflet (served from this site). With no tile URL configured the regions are drawn on a
   plain background, so a page asks nothing of any other host.

   Every name on a map (a region, a case title) is typed by someone, so popups, tooltips and labels
   are built as DOM nodes with text only: Leaflet would read a string as HTML. */
(function () {
  "use strict";

  function data(id) {
    var el = id && document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function colour(p) {
    if (p.overdue > 0) { return "#b3261e"; }
    if (p.open > 0) { return "#0b5cad"; }
    return "#7d8896";
  }

  // An element holding only text (and optional class): never parsed as HTML.
  function textNode(tag, text, className) {
    var node = document.createElement(tag);
    node.textContent = text === undefined || text === null ? "" : String(text);
    if (className) { node.className = className; }
    return node;
  }

  // A link target must be a path on this site ("/cases/X/"): no scheme, no other host, no
  // "javascript:", no "//host" and no backslash (which browsers read as a slash).
  function samePath(url) {
    return typeof url === "string" && /^\/(?![\/\\])[^\s\\]*$/.test(url) ? url : null;
  }

  function regionPopup(el, p) {
    var box = document.createElement("div");
    box.appendChild(textNode("strong", p.name));
    box.appendChild(document.createTextNode(" (" + String(p.code) + ")"));
    if (p.open !== undefined) {
      box.appendChild(document.createTextNode(" · " + (el.dataset.openLabel || "open") + " " + Number(p.open) +
                                              " · " + (el.dataset.overdueLabel || "overdue") + " " + Number(p.overdue)));
    }
    return box;
  }

  function casePopup(p) {
    var box = document.createElement("div"), url = samePath(p.url);
    var code = url ? document.createElement("a") : document.createElement("strong");
    if (url) { code.setAttribute("href", url); }
    code.textContent = String(p.code);
    box.appendChild(code);
    box.appendChild(document.createTextNode(" " + String(p.title === undefined ? "" : p.title)));
    return box;
  }

  function setup(el) {
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    // Layers are built first and added once the view is set: Leaflet cannot draw on a map without one.
    var group = L.featureGroup(), bounds = null, labelled = !!el.dataset.labels;
    var shapes = data(el.dataset.geojson);
    if (shapes && shapes.features && shapes.features.length) {
      var layer = L.geoJSON(shapes, {
        interactive: !el.dataset.pick,  // on the report map a tap places the pin, it opens nothing
        style: function (f) {
          var counted = f.properties.open !== undefined, small = f.properties.level === "community";
          var c = counted ? colour(f.properties) : (small ? "#5a6b7d" : "#0b5cad");
          return { color: c, weight: small ? 0.8 : 1, dashArray: small ? "3 3" : null, fillColor: c,
                   fillOpacity: counted ? 0.25 + Math.min(0.5, f.properties.open / 20) : (small ? 0 : 0.06) };
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          if (p.open !== undefined) {
            l.bindTooltip(textNode("span", Number(p.open)), { permanent: true, direction: "center", className: "grid-label" });
          } else if (labelled && p.name) {  // the report map names its streets and communities
            l.bindTooltip(textNode("span", p.name), { permanent: true, direction: "center",
                                                     className: "area-label area-" + String(p.level || "region") });
          }
          if (!el.dataset.pick) { l.bindPopup(regionPopup(el, p)); }
        }
      }).addTo(group);
      bounds = layer.getBounds();
    }
    var points = data(el.dataset.points) || [];
    points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], { radius: 6, color: "#b86e00", fillOpacity: 0.8 }).addTo(group);
      m.bindPopup(casePopup(p));
      bounds = bounds ? bounds.extend([p.lat, p.lon]) : L.latLngBounds([[p.lat, p.lon], [p.lat, p.lon]]);
    });
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); } else { map.setView([30, 114], 4); }
    group.addTo(map);
    if (labelled) {  // community names only when zoomed in far enough to read them
      var zoomed = function () { el.classList.toggle("show-small-labels", map.getZoom() >= (Number(el.dataset.smallLabelsZoom) || 14)); };
      map.on("zoomend", zoomed); zoomed();
    }

    if (el.dataset.pick) {  // a pin for the report: fills the lon/lat inputs
      var lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat"), pin = null;
      var place = function (latlng, source) {
        if (pin) { pin.setLatLng(latlng); } else { pin = L.circleMarker(latlng, { radius: 9, color: "#b3261e", fillOpacity: 0.9 }).addTo(map); }
        lon.value = latlng.lng.toFixed(6); lat.value = latlng.lat.toFixed(6);
        el.dispatchEvent(new CustomEvent("pin", { bubbles: true, detail: { source: source || "tap" } }));
        lon.dispatchEvent(new Event("change", { bubbles: true }));
      };
      if (lon.value && lat.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), "form"); }
      map.on("click", function (e) { place(e.latlng, "tap"); });
      el.placePin = place;  // for the report page's "use my location" and "use the photo's location"
    }
    el.leafletMap = map;
    el.dispatchEvent(new CustomEvent("map-ready", { bubbles: true }));
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.L) { return; }
    document.querySelectorAll("div.map[data-map]").forEach(setup);
  });
  window.CivicGridMap = { samePath: samePath, textNode: textNode };
})();
