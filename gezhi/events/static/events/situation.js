/*
 * The events layer of the situation map (作战图): open events of the viewer's scope as dots
 * coloured by state, red when overdue, with an amber ring once most of the time is used.
 * Data and legend come from events:map_data; map.js has already drawn the map.
 */
(function () {
  "use strict";

  function h(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text) { el.textContent = text; }
    return el;
  }

  function draw(el, box, data) {
    var map = el._gezhiMap;
    var pane = map.createPane("events");
    pane.style.zIndex = 460;
    pane.style.pointerEvents = "none";
    var markers = [];
    var shown = L.layerGroup();
    data.events.forEach(function (row) {
      var late = row.colour === "red";
      var marker = L.circleMarker([row.lat, row.lon], {
        pane: "events", radius: row.supervised ? 8 : 6,
        className: "event-mark event-mark--" + row.state + (late ? " event-mark--overdue" : ""),
        color: row.colour === "yellow" ? data.colours.warn : "#fff",
        weight: row.colour === "yellow" ? 3 : 1.5,
        fillColor: late ? data.colours.overdue : (data.colours[row.state] || "#6b7280"),
        fillOpacity: 0.95
      });
      marker.bindTooltip(row.serial + " " + row.category + " · " + row.state_label, { direction: "top" });
      marker.bindPopup(function () {
        var p = h("div", { "class": "map-popup" });
        var title = h("p", { "class": "map-popup__title" });
        title.appendChild(h("a", { href: row.url }, row.serial));
        p.appendChild(title);
        p.appendChild(h("p", { "class": "map-popup__meta" }, row.category + " · " + row.state_label));
        return p;
      });
      markers.push({ marker: marker, late: late });
    });
    var legend = box.querySelector("[data-event-legend]");
    data.legend.forEach(function (item) {
      var li = h("li");
      var dot = h("span", { "class": "legend__dot", "aria-hidden": "true", style: "--chip: " + item.colour + (item.ring ? "; background: #fff; border-color: " + item.colour : "") });
      li.appendChild(dot);
      li.appendChild(document.createTextNode(item.label));
      legend.appendChild(li);
    });
    var count = box.querySelector("[data-event-count]");
    count.textContent = count.dataset.template.replace("{n}", data.events.length).replace("{late}", markers.filter(function (m) { return m.late; }).length);
    var show = box.querySelector("[data-event-show]"), lateOnly = box.querySelector("[data-event-overdue]");
    function sync() {
      shown.clearLayers();
      markers.forEach(function (m) {
        if (show.checked && (m.late || !lateOnly.checked)) { shown.addLayer(m.marker); }
      });
    }
    shown.addTo(map);
    show.addEventListener("change", sync);
    lateOnly.addEventListener("change", sync);
    sync();
  }

  function start() {
    var box = document.getElementById("event-layer");
    var el = box && document.getElementById(box.dataset.map);
    if (!el || !el._gezhiMap || !window.fetch) { return; }
    box.hidden = false;
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(el, box, data); } });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
