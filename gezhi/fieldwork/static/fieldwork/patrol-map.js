/*
 * A patrol's route (巡查轨迹) on a map: <div data-fieldwork-map="track" data-geojson="id"> with
 * json_script data {outline: FeatureCollection of the grid, track: [[lat, lon], …], start, end}.
 * Built with gezhi/map.js (loaded first): base layer from data-tile-url, none when empty.
 */
(function () {
  "use strict";

  function initTrack(el) {
    var data = GezhiMap.readJSON(el.dataset.geojson) || {};
    var map = GezhiMap.createMap(el, { maxZoom: 19 });
    var track = data.track || [];
    GezhiMap.fit(map, L.latLngBounds(track), null, { padding: [16, 16], maxZoom: 18 });
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
    if (!window.L || !window.GezhiMap) { return; }
    document.querySelectorAll('[data-fieldwork-map="track"]').forEach(initTrack);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
