/*
 * A patrol's route (巡查轨迹) on a map: <div data-fieldwork-map="track" data-geojson="id"> with
 * json_script data {outline: FeatureCollection of the grid, track: [[lat, lon], …], start, end}.
 * Base layer as in gezhi/map.js: data-tile-url, empty means no tiles (offline intranets).
 */
(function () {
  "use strict";

  function readJSON(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function initTrack(el) {
    var data = readJSON(el.dataset.geojson) || {};
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    if (el.dataset.tileUrl) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("map--plain");
    }
    L.control.scale({ imperial: false }).addTo(map);
    var track = data.track || [];
    var bounds = L.latLngBounds(track);
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18 });
    } else {
      map.setView([35.86, 104.19], 4);
    }
    if (data.outline && data.outline.features && data.outline.features.length) {
      L.geoJSON(data.outline, {
        style: { color: "#5b6b7d", weight: 1.5, dashArray: "6 4", fillOpacity: 0.04 },
        interactive: false
      }).addTo(map);
    }
    if (track.length > 1) {
      L.polyline(track, { color: "#c8102e", weight: 4, opacity: 0.85, className: "patrol-route" }).addTo(map);
    }
    if (track.length) {
      L.circleMarker(track[0], { radius: 7, color: "#fff", weight: 2, fillColor: "#15803d", fillOpacity: 1 })
        .bindTooltip(data.start || "", { direction: "top" }).addTo(map);
      L.circleMarker(track[track.length - 1], { radius: 7, color: "#fff", weight: 2, fillColor: "#c8102e", fillOpacity: 1 })
        .bindTooltip(data.end || "", { direction: "top" }).addTo(map);
    }
  }

  function start() {
    if (!window.L) { return; }
    document.querySelectorAll('[data-fieldwork-map="track"]').forEach(initTrack);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
