/*
 * Event pages: the point picker of the report form (click the map, or type the coordinates),
 * previews of chosen photos, and hiding the 自行处置 fields until the box is ticked. Every
 * part is an extra: the forms work without JavaScript. The map comes from gezhi/map.js,
 * which the page loads first.
 */
(function () {
  "use strict";

  function picker(el) {
    var lat = document.getElementById(el.dataset.lat);
    var lon = document.getElementById(el.dataset.lon);
    var map = GezhiMap.createMap(el);
    var grids = GezhiMap.readJSON(el.dataset.geojson) || { type: "FeatureCollection", features: [] };
    var outline = L.geoJSON(grids, {
      style: { color: "#2563a8", weight: 1.5, fillColor: "#2563a8", fillOpacity: 0.06 },
      interactive: false
    }).addTo(map);
    GezhiMap.fit(map, outline.getBounds());
    var marker = null;

    function place(la, lo) {
      if (marker) {
        marker.setLatLng([la, lo]);
      } else {
        marker = L.circleMarker([la, lo], {
          radius: 8, color: "#fff", weight: 2, fillColor: "#c8102e", fillOpacity: 1,
          className: "event-point", interactive: false
        }).addTo(map);
      }
    }

    function fromInputs() {
      var la = parseFloat(lat.value), lo = parseFloat(lon.value);
      if (isFinite(la) && isFinite(lo)) { place(la, lo); return true; }
      return false;
    }

    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      place(e.latlng.lat, e.latlng.lng);
      document.body.dispatchEvent(new CustomEvent("pointpicked"));
    });
    [lat, lon].forEach(function (input) {
      input.addEventListener("change", function () {
        if (fromInputs()) { map.panTo(marker.getLatLng()); }
      });
    });
    fromInputs();
  }

  function previews(box) {
    var input = document.getElementById(box.dataset.previewFor);
    if (!input) { return; }
    input.addEventListener("change", function () {
      box.replaceChildren();
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (!/^image\//.test(file.type)) { return; }
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        img.onload = function () { URL.revokeObjectURL(img.src); };
        box.appendChild(img);
      });
    });
  }

  function selfResolve(box) {
    var check = box.querySelector("input[type=checkbox]");
    var parts = box.querySelectorAll("[data-self-resolve-part]");
    function sync() {
      Array.prototype.forEach.call(parts, function (p) { p.hidden = !check.checked; });
    }
    check.addEventListener("change", sync);
    sync();
  }

  function start() {
    if (window.L && window.GezhiMap) { document.querySelectorAll("[data-event-picker]").forEach(picker); }
    document.querySelectorAll("[data-preview-for]").forEach(previews);
    document.querySelectorAll("[data-self-resolve]").forEach(selfResolve);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
