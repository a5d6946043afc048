/*
 * 随手拍 (resident report): what JavaScript adds to a form that works without it.
 *
 * - The map: tap or click to mark the problem's place, "使用我的位置" for the device's GPS
 *   (WGS-84), or "选定地图中心" after moving the map with the keyboard. The point goes into
 *   hidden lat/lon fields and the public lookup API says which grid it falls in.
 *   The map comes from gezhi/map.js, which the page loads first.
 * - Photos: compressed in the browser before upload (at most MAX_SIDE pixels, JPEG), by
 *   putting the smaller files back into the same file input, so the form posts as usual.
 */
(function () {
  "use strict";

  var MAX_SIDE = 1600;
  var QUALITY = 0.82;
  var MAX_PHOTOS = 9;
  var KEEP_BELOW = 500 * 1024; // small enough already: sent as it is

  var messages = {};
  var tpl = document.getElementById("report-messages");
  if (tpl) {
    tpl.content.querySelectorAll("[data-key]").forEach(function (n) {
      messages[n.dataset.key] = n.textContent.trim();
    });
  }

  function text(key, values) {
    var s = messages[key] || "";
    Object.keys(values || {}).forEach(function (k) { s = s.replace("%(" + k + ")s", values[k]); });
    return s;
  }

  function say(el, message, kind) {
    if (!el) { return; }
    el.textContent = message;
    el.className = el.className.replace(/\s*is-\w+/g, "") + (kind ? " is-" + kind : "");
  }

  var form = document.getElementById("report-form");
  if (!form) { return; }

  /* --- Location ------------------------------------------------------------------------ */

  function hidden(name) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    form.appendChild(input);
    return input;
  }

  function initMap(el) {
    var latInput = hidden("lat");
    var lonInput = hidden("lon");
    var status = document.getElementById("location-status");
    el.hidden = false;
    var map = GezhiMap.createMap(el);
    var outlines = GezhiMap.readJSON(el.dataset.geojson);
    var layer = L.geoJSON(outlines || { type: "FeatureCollection", features: [] }, {
      style: { color: "#5b6b7d", weight: 1, opacity: 0.9, fillOpacity: 0.04, dashArray: "4 4" },
      interactive: false
    }).addTo(map);
    var bounds = GezhiMap.readJSON(el.dataset.bounds);
    GezhiMap.fit(map, bounds ? L.latLngBounds(bounds) : null, layer.getBounds());

    var marker = null;
    var pending = null;

    function setPoint(lat, lon, recentre) {
      latInput.value = lat.toFixed(7);
      lonInput.value = lon.toFixed(7);
      if (marker) { map.removeLayer(marker); }
      marker = L.circleMarker([lat, lon], {
        radius: 9, color: "#fff", weight: 3, fillColor: "#c8102e", fillOpacity: 1,
        className: "map-point", interactive: false
      }).addTo(map);
      if (recentre) { map.setView([lat, lon], Math.max(map.getZoom(), 16)); }
      say(status, messages.picked, "info");
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var url = el.dataset.lookupUrl + "?lat=" + encodeURIComponent(lat.toFixed(6)) +
        "&lon=" + encodeURIComponent(lon.toFixed(6));
      fetch(url, { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); })
        .then(function (r) {
          if (r.status === 200) {
            say(status, text("in_grid", { grid: r.body.grid.name }), "ok");
          } else if (r.status === 404) {
            say(status, messages.outside, "warn");
          } else {
            say(status, messages.marked, "info");
          }
        })
        .catch(function (err) {
          if (err.name !== "AbortError") { say(status, messages.marked, "info"); }
        });
    }

    map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng, false); });

    var centre = document.getElementById("use-centre");
    if (centre) {
      centre.hidden = false;
      centre.addEventListener("click", function () {
        var c = map.getCenter();
        setPoint(c.lat, c.lng, false);
      });
    }

    var locate = document.getElementById("use-location");
    if (locate) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        if (!("geolocation" in navigator)) { say(status, messages.unsupported, "warn"); return; }
        say(status, messages.locating, "info");
        navigator.geolocation.getCurrentPosition(function (pos) {
          setPoint(pos.coords.latitude, pos.coords.longitude, true);
        }, function (err) {
          say(status, err.code === 1 ? messages.denied : messages.unavailable, "warn");
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    // A point sent before (the form came back with an error): keep it.
    var lat = parseFloat(el.dataset.lat);
    var lon = parseFloat(el.dataset.lon);
    if (!isNaN(lat) && !isNaN(lon)) { setPoint(lat, lon, true); }
  }

  /* --- Photos -------------------------------------------------------------------------- */

  var compressing = 0;

  function compress(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/i.test(file.type)) { resolve(file); return; }
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var w = img.naturalWidth;
        var h = img.naturalHeight;
        var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
        if (scale === 1 && file.size < KEEP_BELOW) { URL.revokeObjectURL(url); resolve(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(w * scale));
        canvas.height = Math.max(1, Math.round(h * scale));
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", QUALITY);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };
      img.src = url;
    });
  }

  function size(bytes) {
    return bytes >= 1024 * 1024 ? (bytes / 1024 / 1024).toFixed(1) + " MB"
      : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function preview(list, files) {
    list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    list.replaceChildren();
    files.forEach(function (file, i) {
      var li = document.createElement("li");
      if (/^image\//.test(file.type)) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = text("photo", { n: i + 1 });
        li.appendChild(img);
      }
      var caption = document.createElement("span");
      caption.textContent = size(file.size);
      li.appendChild(caption);
      list.appendChild(li);
    });
  }

  function initPhotos(input) {
    var status = document.getElementById("photos-status");
    var list = document.getElementById("photo-previews");
    var canReplace = typeof DataTransfer === "function";
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) { list.replaceChildren(); say(status, "", ""); return; }
      if (files.length > MAX_PHOTOS) {
        say(status, messages.too_many, "warn");
        return;
      }
      if (!canReplace) {
        preview(list, files);
        return;
      }
      compressing += 1;
      input.setAttribute("aria-busy", "true");
      say(status, messages.compressing, "info");
      Promise.all(files.map(compress)).then(function (done) {
        try {
          var dt = new DataTransfer();
          done.forEach(function (f) { dt.items.add(f); });
          input.files = dt.files;
        } catch (e) {
          done = files; // this browser cannot replace the files: send them as they are
        }
        preview(list, done);
        var total = done.reduce(function (sum, f) { return sum + f.size; }, 0);
        say(status, text("ready", { n: done.length, size: size(total) }), "ok");
      }).finally(function () {
        compressing -= 1;
        input.removeAttribute("aria-busy");
      });
    });
  }

  /* --- Sending ------------------------------------------------------------------------- */

  function initSubmit() {
    var button = document.getElementById("report-submit");
    var status = document.getElementById("submit-status");
    form.addEventListener("submit", function (e) {
      if (compressing > 0) {
        e.preventDefault();
        say(status, messages.wait_photos, "warn");
        return;
      }
      if (form.dataset.sending) { e.preventDefault(); return; }
      form.dataset.sending = "1";
      button.disabled = true;
      say(status, messages.sending, "info");
    });
    // Back from the next page (bfcache): the form may be sent again.
    window.addEventListener("pageshow", function () {
      delete form.dataset.sending;
      button.disabled = false;
    });
  }

  function start() {
    var mapEl = document.getElementById("report-map");
    if (mapEl && window.L && window.GezhiMap) { initMap(mapEl); }
    var photos = document.getElementById("report-photos");
    if (photos) { initPhotos(photos); }
    initSubmit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
