/* Maps with Leaflet (served from this site). With no tile URL configured the regions are drawn on a
   plain background, so a page asks nothing of any other host. */
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

  function setup(el) {
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    // Layers are built first and added once the view is set: Leaflet cannot draw on a map without one.
    var group = L.featureGroup(), bounds = null;
    var shapes = data(el.dataset.geojson);
    if (shapes && shapes.features && shapes.features.length) {
      var layer = L.geoJSON(shapes, {
        interactive: !el.dataset.pick,  // on the report map a tap places the pin, it opens nothing
        style: function (f) {
          var counted = f.properties.open !== undefined;
          var c = counted ? colour(f.properties) : "#0b5cad";
          return { color: c, weight: 1, fillColor: c, fillOpacity: counted ? 0.25 + Math.min(0.5, f.properties.open / 20) : 0.06 };
        },
        onEachFeature: function (f, l) {
          var p = f.properties, text = p.name + " (" + p.code + ")";
          if (p.open !== undefined) {
            text += " · " + (el.dataset.openLabel || "open") + " " + p.open + " · " + (el.dataset.overdueLabel || "overdue") + " " + p.overdue;
            l.bindTooltip(String(p.open), { permanent: true, direction: "center", className: "grid-label" });
          }
          l.bindPopup(text);
        }
      }).addTo(group);
      bounds = layer.getBounds();
    }
    var points = data(el.dataset.points) || [];
    points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], { radius: 6, color: "#b86e00", fillOpacity: 0.8 }).addTo(group);
      m.bindPopup('<a href="' + p.url + '">' + p.code + "</a> " + String(p.title).replace(/[<>&]/g, ""));
      bounds = bounds ? bounds.extend([p.lat, p.lon]) : L.latLngBounds([[p.lat, p.lon], [p.lat, p.lon]]);
    });
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); } else { map.setView([30, 114], 4); }
    group.addTo(map);

    if (el.dataset.pick) {  // a pin for the report: fills the lon/lat inputs
      var lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat"), pin = null;
      var place = function (latlng) {
        if (pin) { pin.setLatLng(latlng); } else { pin = L.circleMarker(latlng, { radius: 9, color: "#b3261e", fillOpacity: 0.9 }).addTo(map); }
        lon.value = latlng.lng.toFixed(6); lat.value = latlng.lat.toFixed(6);
        lon.dispatchEvent(new Event("change", { bubbles: true }));
      };
      if (lon.value && lat.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
      map.on("click", function (e) { place(e.latlng); });
      var here = document.getElementById("use-location");
      if (here && navigator.geolocation) {
        here.addEventListener("click", function () {
          navigator.geolocation.getCurrentPosition(function (pos) {
            var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
            place(ll); map.setView(ll, 16);
          }, function () { here.disabled = true; });
        });
      }
    }
    el.leafletMap = map;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.L) { return; }
    document.querySelectorAll("div.map[data-map]").forEach(setup);
  });
})();
