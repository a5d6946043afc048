/*
 * The workbench pages (/m/): service worker, network and login banners, photos compressed on
 * the phone, forms that save into the outbox (outbox.js) instead of posting, the report map
 * (GPS, grid found on the phone, draggable point), 我的网格, 巡查 and the 待上传 list.
 * The page says which part it is with <body data-page>; UI text comes translated from the
 * server (#m-text).
 */
(function () {
  "use strict";

  var box = window.GezhiOutbox;
  var body = document.body;
  var T = readJSON("m-text") || {};
  var MAX_SIDE = 1600, QUALITY = 0.8, MAX_PHOTOS = 9;
  var RECENT_KEY = "gezhi.m.categories", PATROL_KEY = "gezhi.m.patrol";

  // --- Small helpers ---------------------------------------------------------------------

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function t(key, vars) {
    return (T[key] || key).replace(/%\((\w+)\)s/g, function (m, name) {
      return vars && vars[name] !== undefined ? vars[name] : m;
    });
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function when(iso) {
    var d = new Date(iso), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function today() {
    var d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }

  function say(node, text, kind) {
    if (!node) { return; }
    node.textContent = text;
    node.classList.remove("notice--ok", "notice--info", "notice--warn", "notice--error");
    node.classList.add("notice");
    if (kind) { node.classList.add("notice--" + kind); }
    node.hidden = !text;
  }

  // --- Service worker, banners, badge, logout ---------------------------------------------

  function worker() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register(body.dataset.sw, { scope: body.dataset.scope }).then(function () {
      var active = navigator.serviceWorker.controller;
      // Besides the shell pages, keep the pages of the households due for a visit (data-keep),
      // so the visit can be recorded in a basement too.
      var keep = $$("a[data-keep]").map(function (a) { return a.getAttribute("href"); });
      if (active && navigator.onLine && body.dataset.user) { active.postMessage({ type: "warm", keep: keep }); }
    }, function () { /* no offline shell (e.g. not https): the pages still work online */ });
  }

  function tellWorker(type) {
    var active = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!active) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { resolve(); };
      active.postMessage({ type: type }, [channel.port2]);
      setTimeout(resolve, 2000);
    });
  }

  function network() {
    var banner = $("#net-banner");
    function update() { banner.hidden = navigator.onLine; }
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    update();
  }

  // The tab badge counts this worker's entries; the login banner shows while any wait for a
  // new login.
  function outboxState() {
    return box.all().then(function (entries) {
      var mine = entries.filter(function (e) { return e.user === body.dataset.user; });
      var badge = $("#outbox-count");
      badge.textContent = mine.length || "";
      badge.hidden = !mine.length;
      $("#auth-banner").hidden = !mine.some(function (e) { return e.status === "auth"; });
      return entries;
    });
  }

  function logout() {
    var form = $("#logout-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // Personal pages go with the session; the outbox stays until it is sent.
      localStorage.removeItem("gezhi.m.sent");
      tellWorker("forget").then(function () { form.submit(); });
    });
  }

  // --- Photos: compressed on the phone before they are stored ------------------------------

  function decode(file) {
    function viaImage() {
      return new Promise(function (resolve, reject) {
        var img = new Image(), url = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
        img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
        img.src = url;
      });
    }
    if (!window.createImageBitmap) { return viaImage(); }
    return createImageBitmap(file, { imageOrientation: "from-image" }).catch(viaImage);
  }

  function compress(file) {
    return decode(file).then(function (img) {
      var w = img.width, hgt = img.height, scale = Math.min(1, MAX_SIDE / Math.max(w, hgt));
      var canvas = h("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(hgt * scale));
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      if (img.close) { img.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) { return blob ? resolve(blob) : reject(new Error("encode")); },
          "image/jpeg", QUALITY);
      });
    });
  }

  function photoPicker(root) {
    var picker = { name: root.dataset.photos, blobs: [] };
    var list = $(".photos__list", root), error = $(".photos__error", root);
    function render() {
      list.replaceChildren();
      picker.blobs.forEach(function (blob, i) {
        var img = h("img", { alt: t("photo_n", { n: i + 1 }) });
        img.src = URL.createObjectURL(blob);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        var drop = h("button", { type: "button", "class": "photos__drop", "aria-label": t("photo_remove", { n: i + 1 }), text: "×" });
        drop.addEventListener("click", function () { picker.blobs.splice(i, 1); render(); });
        list.appendChild(h("figure", { "class": "photos__item", "data-size": blob.size }, [img, drop]));
      });
    }
    picker.set = function (blobs) { picker.blobs = (blobs || []).slice(); render(); };
    picker.busy = Promise.resolve();
    $$("input[type=file]", root).forEach(function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        say(error, "");
        picker.busy = files.reduce(function (done, file) {
          return done.then(function () {
            if (picker.blobs.length >= MAX_PHOTOS) { say(error, t("photo_max", { n: MAX_PHOTOS }), "error"); return; }
            return compress(file).then(function (blob) { picker.blobs.push(blob); render(); }, function () {
              say(error, t("photo_bad", { name: file.name }), "error");
            });
          });
        }, picker.busy).then(function () { input.value = ""; });
      });
    });
    root.picker = picker;
    return picker;
  }

  // --- Forms that save into the outbox ------------------------------------------------------

  function formFields(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.disabled || input.type === "file") { return; }
      if ((input.type === "checkbox" || input.type === "radio") && !input.checked) { return; }
      if (input.dataset.many !== undefined) {
        (out[input.name] = out[input.name] || []).push(input.value);
      } else {
        out[input.name] = input.value;
      }
    });
    return out;
  }

  function fillForm(form, fields) {
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.type === "file" || !(input.name in fields)) { return; }
      var value = fields[input.name];
      if (input.type === "checkbox" || input.type === "radio") {
        input.checked = Array.isArray(value) ? value.indexOf(input.value) >= 0 : value === input.value;
      } else {
        input.value = value;
      }
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // A form with data-outbox="<kind>" is saved as an outbox entry and then sent. `hooks`:
  // check() → a message that stops the save, label(fields) → the entry's title in the list,
  // saved(entry) and restore(entry) for the page's own parts.
  function outboxForm(form, hooks) {
    var status = $(".form-status", form);
    var pickers = $$("[data-photos]", form).map(photoPicker);
    var editing = null;
    hooks = hooks || {};
    var editId = new URLSearchParams(location.search).get("edit");
    if (editId) {
      box.get(editId).then(function (entry) {
        if (!entry) { return; }
        editing = entry;
        fillForm(form, entry.fields);
        pickers.forEach(function (p) { p.set(entry.files[p.name]); });
        if (hooks.restore) { hooks.restore(entry); }
        say(status, entry.message ? t("fix_and_save", { message: entry.message }) : "", "error");
        if (entry.field && form.elements[entry.field] && form.elements[entry.field].focus) {
          form.elements[entry.field].focus();
        }
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var problem = hooks.check && hooks.check();
      if (problem) { say(status, problem, "error"); return; }
      if (!form.reportValidity()) { return; }
      Promise.all(pickers.map(function (p) { return p.busy; })).then(function () {
        var fields = formFields(form), files = {};
        pickers.forEach(function (p) { files[p.name] = p.blobs.slice(); });
        var label = hooks.label ? hooks.label(fields) : "";
        var saving;
        if (editing) {
          Object.assign(editing, { fields: fields, files: files, label: label, status: "pending", message: "", field: "" });
          saving = box.put(editing).then(function () { return editing; });
        } else {
          saving = box.add(form.dataset.outbox, fields, { files: files, label: label });
        }
        return saving.then(function (entry) {
          editing = null;
          if (history.replaceState && editId) { history.replaceState(null, "", location.pathname); }
          form.reset();
          pickers.forEach(function (p) { p.set([]); });
          if (hooks.saved) { hooks.saved(entry); }
          say(status, t("saved_sending"), "info");
          return box.flush().then(function (report) { tellOutcome(status, entry, report); });
        });
      }).catch(function () { say(status, t("save_failed"), "error"); });
    });
  }

  function tellOutcome(status, entry, report) {
    var sent = report.sent.filter(function (s) { return s.entry.id === entry.id; })[0];
    if (sent) {
      var serial = sent.data.serial || (sent.data.event && sent.data.event.serial);
      say(status, serial ? t("sent_event", { serial: serial }) : t("sent"), "ok");
      return;
    }
    box.get(entry.id).then(function (left) {
      if (!left) { return; }
      if (left.status === "failed") { say(status, t("send_failed", { message: left.message }), "error"); }
      else if (left.status === "auth") { say(status, t("saved_login"), "warn"); }
      else { say(status, t("saved_offline"), "warn"); }
    });
  }

  // --- Maps -------------------------------------------------------------------------------

  function makeMap(el, outline) {
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.5 });
    el._gezhiMap = map;
    if (el.dataset.tileUrl) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("map--plain");
    }
    var layer = L.geoJSON(outline || { type: "FeatureCollection", features: [] }, {
      style: { color: "#2563a8", weight: 1.5, fillColor: "#2563a8", fillOpacity: 0.05 },
      interactive: false
    }).addTo(map);
    if (layer.getBounds().isValid()) {
      map.fitBounds(layer.getBounds(), { padding: [8, 8], maxZoom: 17 });
    } else {
      map.setView([35.86, 104.19], 4);
    }
    return map;
  }

  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }

  // The grid under a point, found on the phone from the outlines the page carries.
  function gridAt(outline, lat, lon) {
    var found = null;
    (outline.features || []).some(function (f) {
      var g = f.geometry || {};
      var polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      var hit = polygons.some(function (rings) {
        return inRing(lon, lat, rings[0]) && !rings.slice(1).some(function (hole) { return inRing(lon, lat, hole); });
      });
      if (hit) { found = f.properties; }
      return hit;
    });
    return found;
  }

  function locate(ok, fail, options) {
    if (!navigator.geolocation) { fail({ code: 0 }); return; }
    navigator.geolocation.getCurrentPosition(ok, fail,
      Object.assign({ enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }, options));
  }

  function dot(colour, size) {
    return L.divIcon({ className: "pin", html: "<span style=\"background:" + colour + "\"></span>",
                       iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
  }

  function metres(a, b) {
    var rad = Math.PI / 180, dLat = (b[0] - a[0]) * rad, dLon = (b[1] - a[1]) * rad;
    var s = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371000 * 2 * Math.atan2(Math.sqrt(s), Math.sqrt(1 - s));
  }

  // --- 上报 -----------------------------------------------------------------------------------

  function recentCategories() {
    try { return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]"); } catch (e) { return []; }
  }

  function categoryPicker(select, chips) {
    var names = {};
    $$("option", select).forEach(function (o) { names[o.value] = o.textContent; });
    function render() {
      chips.replaceChildren();
      recentCategories().filter(function (code) { return names[code]; }).forEach(function (code) {
        var chip = h("button", { type: "button", "class": "chip", "data-code": code, text: names[code] });
        chip.setAttribute("aria-pressed", String(select.value === code));
        chip.addEventListener("click", function () {
          select.value = code;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        });
        chips.appendChild(chip);
      });
      chips.hidden = !chips.children.length;
    }
    select.addEventListener("change", render);
    render();
    return {
      remember: function (code) {
        var list = [code].concat(recentCategories().filter(function (c) { return c !== code; }));
        localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, 6)));
        render();
      },
      name: function (code) { return names[code] || ""; }
    };
  }

  // The point: the phone's GPS (WGS-84) when allowed, moved by dragging the marker or tapping
  // the map; without GPS the worker places it.
  function pointPicker(form, el) {
    var outline = readJSON("grid-outline") || { features: [] };
    var map = makeMap(el, outline);
    var lat = form.elements.lat, lon = form.elements.lon;
    var where = $("#where"), marker = null;
    function place(la, lo, source) {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      if (!marker) {
        marker = L.marker([la, lo], { draggable: true, icon: dot("#c8102e", 22), keyboard: false }).addTo(map);
        marker.on("dragend", function () {
          var p = marker.getLatLng();
          place(p.lat, p.lng, "map");
        });
      } else {
        marker.setLatLng([la, lo]);
      }
      var grid = gridAt(outline, la, lo);
      $("#grid-name").textContent = grid ? grid.name : t("no_grid");
      $("#grid-name").dataset.code = grid ? grid.code : "";
      if (source === "gps") { map.setView([la, lo], Math.max(map.getZoom(), 17)); }
    }
    function fromGps() {
      say(where, t("locating"), "info");
      locate(function (pos) {
        place(pos.coords.latitude, pos.coords.longitude, "gps");
        say(where, t("located", { m: Math.round(pos.coords.accuracy) }), "ok");
      }, function (err) {
        say(where, err.code === 1 ? t("gps_denied") : t("gps_failed"), "warn");
      });
    }
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, "map"); say(where, t("placed"), "ok"); });
    $("#locate").addEventListener("click", fromGps);
    var query = new URLSearchParams(location.search);
    if (query.get("lat") && query.get("lon")) {
      place(parseFloat(query.get("lat")), parseFloat(query.get("lon")), "gps");
      say(where, t("placed_house"), "ok");
    } else if (!query.get("edit")) {
      fromGps();
    }
    return {
      check: function () {
        var problem = !lat.value || !lon.value ? t("need_point")
          : el.dataset.complete !== undefined && !$("#grid-name").dataset.code ? t("outside_grids") : "";
        if (problem) { el.scrollIntoView({ block: "center" }); }
        return problem;
      },
      restore: function (fields) {
        if (fields.lat && fields.lon) { place(parseFloat(fields.lat), parseFloat(fields.lon), "gps"); }
      },
      clear: function () {
        lat.value = lon.value = "";
        if (marker) { map.removeLayer(marker); marker = null; }
        $("#grid-name").textContent = "";
        fromGps();
      }
    };
  }

  function selfResolve(form) {
    var check = form.elements.self_resolve, part = $("#self-resolve-part");
    function sync() {
      part.hidden = !check.checked;
      form.elements.result.required = check.checked;
    }
    check.addEventListener("change", sync);
    sync();
    return sync;
  }

  function reportPage() {
    var form = $("#report-form");
    var categories = categoryPicker(form.elements.category, $("#recent-categories"));
    var point = pointPicker(form, $("#report-map"));
    var sync = selfResolve(form);
    var query = new URLSearchParams(location.search), house = $("#house-ref");
    if (query.get("house")) {
      form.elements.house.value = query.get("house");
      form.elements.address.value = query.get("place") || "";
      house.textContent = t("house_ref", { address: query.get("place") || query.get("house") });
      house.hidden = false;
    }
    outboxForm(form, {
      check: point.check,
      label: function (f) { return categories.name(f.category) + " · " + f.description.slice(0, 40); },
      restore: function (entry) { point.restore(entry.fields); sync(); },
      saved: function (entry) {
        categories.remember(entry.fields.category);
        house.hidden = true;
        sync();
        point.clear();
      }
    });
  }

  // --- 民情日记, 走访 ---------------------------------------------------------------------------

  // A quiet position for a diary entry or visit: used if the phone gives one.
  function quietPoint(form) {
    locate(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lon.value = pos.coords.longitude.toFixed(6);
    }, function () {}, { timeout: 10000 });
  }

  function diaryPage() {
    var form = $("#diary-form"), category = form.elements.event_category;
    form.elements.date.value = today();
    quietPoint(form);
    if (category) {
      var part = $("#diary-event-part");
      var sync = function () { part.hidden = !category.value; };
      category.addEventListener("change", sync);
      sync();
    }
    outboxForm(form, {
      label: function (f) { return (f.place ? f.place + " · " : "") + f.text.slice(0, 40); },
      // An entry refused for want of a position (several grids, no GPS then) gets one now.
      restore: function (entry) { if (!entry.fields.lat) { quietPoint(form); } },
      saved: function () { form.elements.date.value = today(); quietPoint(form); }
    });
  }

  function housePage() {
    var form = $("#visit-form");
    if (!form) { return; }
    var panel = $("#visit");
    $$("[data-open-visit]").forEach(function (button) {
      button.addEventListener("click", function () {
        panel.hidden = false;
        quietPoint(form);
        form.elements.outcome[0].focus();
      });
    });
    if (new URLSearchParams(location.search).get("edit")) { panel.hidden = false; }
    outboxForm(form, {
      check: function () { form.elements.visited_at.value = form.elements.visited_at.value || new Date().toISOString(); return ""; },
      label: function () { return form.dataset.address; },
      saved: function () { form.elements.house.value = form.dataset.house; }
    });
  }

  // A kept search page answered for another search (offline): say so rather than show nothing.
  function housesPage() {
    var asked = new URLSearchParams(location.search).get("q") || "", input = $("#q");
    if (asked && input.value !== asked) {
      input.value = asked;
      say($("#search-status"), t("search_offline"), "warn");
    }
  }

  // --- 我的网格 ---------------------------------------------------------------------------------

  function gridPage() {
    var data = readJSON("grid-data");
    var el = $("#grid-map"), map = makeMap(el, data.grids), me = null;
    data.estates.forEach(function (e) {
      L.marker([e.lat, e.lon], { icon: L.divIcon({ className: "estate-label", html: "", iconSize: [14, 14] }), title: e.name })
        .bindTooltip(e.name, { permanent: true, direction: "right", className: "estate-name" }).addTo(map);
    });
    data.buildings.forEach(function (b) {
      L.circleMarker([b.lat, b.lon], { radius: 4, color: "#555e69", weight: 1, fillColor: "#fff", fillOpacity: 1 })
        .bindPopup(b.name).addTo(map);
    });
    data.houses.forEach(function (house) {
      var colour = house.tags.length ? house.tags[0].colour : "#6b7280";
      var link = h("a", { href: data.house_url.replace("/0/", "/" + house.id + "/"), text: house.address });
      var popup = h("div", {}, [link, h("div", {}, house.tags.map(function (tag) {
        return h("span", { "class": "tag", style: "border-color:" + tag.colour, text: tag.name });
      }))]);
      L.marker([house.lat, house.lon], { icon: dot(colour, 16), title: house.address, alt: house.address })
        .bindPopup(popup).addTo(map).getElement().classList.add("house-pin");
    });
    function show(pos) {
      var p = [pos.coords.latitude, pos.coords.longitude];
      if (me) { me.setLatLng(p); } else {
        me = L.circleMarker(p, { radius: 8, color: "#fff", weight: 3, fillColor: "#1a6ed8", fillOpacity: 1, className: "me" }).addTo(map);
      }
    }
    var status = $("#grid-status");
    $("#locate").addEventListener("click", function () {
      locate(function (pos) { show(pos); map.setView(me.getLatLng(), 17); say(status, ""); },
        function () { say(status, t("gps_failed"), "warn"); });
    });
    locate(show, function () {});
  }

  // --- 巡查 ---------------------------------------------------------------------------------------

  function patrolPage() {
    var el = $("#patrol-map"), map = makeMap(el, readJSON("grid-outline"));
    var tracks = readJSON("patrol-tracks") || [];
    var line = L.polyline([], { color: "#c8102e", weight: 4 }).addTo(map);
    var past = L.polyline([], { color: "#2563a8", weight: 3, dashArray: "6 4" }).addTo(map);
    var status = $("#patrol-status"), startBtn = $("#patrol-start"), stopBtn = $("#patrol-stop");
    var watch = null, timer = null;
    var BATCH = 10, BATCH_MS = 2 * 60 * 1000, MIN_S = 30, MIN_M = 20;

    function load() {
      try {
        var s = JSON.parse(localStorage.getItem(PATROL_KEY) || "null");
        return s && s.user === body.dataset.user ? s : null;
      } catch (e) { return null; }
    }
    function save(s) { localStorage.setItem(PATROL_KEY, JSON.stringify(s)); }

    function render(s) {
      startBtn.hidden = !!s;
      stopBtn.hidden = !s;
      $("#patrol-note").hidden = !s;
      line.setLatLngs(s ? s.points.map(function (p) { return [p.lat, p.lon]; }) : []);
      if (s) {
        var km = 0;
        for (var i = 1; i < s.points.length; i++) {
          km += metres([s.points[i - 1].lat, s.points[i - 1].lon], [s.points[i].lat, s.points[i].lon]);
        }
        say(status, t("patrol_on", { since: when(s.started), n: s.points.length, m: Math.round(km) }), "ok");
      }
    }

    // Points go to the outbox in batches: every BATCH points, every BATCH_MS, and at the stop.
    function batch(s) {
      if (!s.pending.length) { return Promise.resolve(); }
      var points = s.pending;
      s.pending = [];
      save(s);
      return box.add("patrol_points", { points: points }, { patrol: s.id, label: t("patrol_points", { n: points.length }) })
        .then(function () { box.flush(); });
    }

    function keep(pos) {
      var s = load();
      if (!s) { return; }
      var point = { lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6), at: new Date().toISOString() };
      var last = s.points[s.points.length - 1];
      if (last && (Date.parse(point.at) - Date.parse(last.at)) / 1000 < MIN_S &&
          metres([last.lat, last.lon], [point.lat, point.lon]) < MIN_M) { return; }
      s.points.push(point);
      s.pending.push(point);
      save(s);
      render(s);
      if (s.pending.length >= BATCH) { batch(s); }
    }

    function follow() {
      if (!navigator.geolocation || watch !== null) { return; }
      watch = navigator.geolocation.watchPosition(keep, function (err) {
        say(status, err.code === 1 ? t("patrol_gps_denied") : t("gps_failed"), "warn");
      }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 });
      timer = setInterval(function () { var s = load(); if (s) { batch(s); } }, BATCH_MS);
    }

    // The patrol starts where the worker is (its grid is found from there on the server).
    function begin(first) {
      var s = { id: box.uuid(), user: body.dataset.user, started: new Date().toISOString(), points: [], pending: [] };
      var fields = { started_at: s.started };
      if (first) {
        first.at = s.started;
        s.points.push(first);
        fields.lat = first.lat;
        fields.lon = first.lon;
        map.setView([first.lat, first.lon], 17);
      }
      save(s);
      box.add("patrol_start", fields, { patrol: s.id, label: t("patrol_label", { since: when(s.started) }) })
        .then(function () { box.flush(); });
      startBtn.disabled = false;
      render(s);
      follow();
    }

    startBtn.addEventListener("click", function () {
      startBtn.disabled = true;
      say(status, t("locating"), "info");
      locate(function (pos) {
        begin({ lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6) });
      }, function () { begin(null); }, { maximumAge: 10000 });
    });

    stopBtn.addEventListener("click", function () {
      var s = load();
      if (!s) { return; }
      if (watch !== null) { navigator.geolocation.clearWatch(watch); watch = null; }
      clearInterval(timer);
      localStorage.removeItem(PATROL_KEY);
      box.add("patrol_stop", { ended_at: new Date().toISOString(), note: $("#patrol-note-text").value, points: s.pending },
        { patrol: s.id, label: t("patrol_stop", { since: when(s.started) }) })
        .then(function () { $("#patrol-note-text").value = ""; return box.flush(); });
      render(null);
      say(status, t("patrol_done", { n: s.points.length }), "ok");
    });

    $$("[data-track]").forEach(function (button) {
      button.addEventListener("click", function () {
        var found = tracks.filter(function (tr) { return tr.id === button.dataset.track; })[0];
        past.setLatLngs(found ? found.track : []);
        if (found && found.track.length) { map.fitBounds(past.getBounds(), { padding: [12, 12] }); }
        el.scrollIntoView({ block: "nearest" });
      });
    });

    var s = load();
    render(s);
    if (s) { follow(); }  // a reload or a reopened page goes on recording
  }

  // --- 待上传 ---------------------------------------------------------------------------------

  var EDIT_PAGES = { event: "report", diary: "diary" };

  function outboxPage() {
    var list = $("#outbox-list"), empty = $("#outbox-empty"), sentList = $("#sent-list");
    function editUrl(entry) {
      if (entry.kind === "visit") { return body.dataset.houseUrl.replace("/0/", "/" + entry.fields.house + "/") + "?edit=" + entry.id; }
      var page = EDIT_PAGES[entry.kind];
      return page ? body.dataset[page + "Url"] + "?edit=" + entry.id : "";
    }
    function state(entry) {
      if (entry.user !== body.dataset.user) { return [t("other_user", { user: entry.user }), "warn"]; }
      if (entry.status === "failed") { return [t("failed", { message: entry.message }), "error"]; }
      if (entry.status === "auth") { return [t("need_login"), "warn"]; }
      return [t("pending"), "info"];
    }
    function render() {
      return box.all().then(function (entries) {
        list.replaceChildren();
        empty.hidden = entries.length > 0;
        entries.slice().reverse().forEach(function (entry) {
          var s = state(entry), actions = h("div", { "class": "item__actions" });
          var photos = Object.keys(entry.files || {}).reduce(function (n, k) { return n + entry.files[k].length; }, 0);
          if (entry.status === "failed") {
            var url = editUrl(entry);
            if (url) { actions.appendChild(h("a", { "class": "btn btn--small", href: url, text: t("edit") })); }
            var retry = h("button", { type: "button", "class": "btn btn--small", text: t("retry") });
            retry.addEventListener("click", function () {
              entry.status = "pending";
              box.put(entry).then(box.flush);
            });
            actions.appendChild(retry);
          }
          var drop = h("button", { type: "button", "class": "btn btn--small btn--danger", text: t("delete") });
          drop.addEventListener("click", function () {
            if (window.confirm(t("delete_confirm"))) { box.remove(entry.id); }
          });
          actions.appendChild(drop);
          list.appendChild(h("li", { "class": "item item--" + entry.status, "data-id": entry.id, "data-kind": entry.kind }, [
            h("div", { "class": "item__head" }, [
              h("strong", { text: t("kind_" + entry.kind) }),
              h("span", { "class": "muted", text: when(entry.created) })
            ]),
            h("p", { "class": "item__label", text: entry.label + (photos ? " · " + t("photos_n", { n: photos }) : "") }),
            h("p", { "class": "item__state notice notice--" + s[1], text: s[0] }),
            actions
          ]));
        });
        var sent = JSON.parse(localStorage.getItem("gezhi.m.sent") || "[]");
        sentList.replaceChildren();
        sent.forEach(function (item) {
          sentList.appendChild(h("li", { text: when(item.at) + " " + t("kind_" + item.kind) + " " + (item.ref || "") + " " + item.label }));
        });
        $("#sent").hidden = !sent.length;
      });
    }
    $("#outbox-send").addEventListener("click", function () {
      box.flush();
    });
    document.addEventListener("outbox:changed", render);
    document.addEventListener("outbox:flushed", render);
    render();
  }

  // --- Start --------------------------------------------------------------------------------

  var PAGES = { report: reportPage, diary: diaryPage, house: housePage, houses: housesPage,
                grid: gridPage, patrol: patrolPage, outbox: outboxPage };

  function start() {
    worker();
    network();
    logout();
    document.addEventListener("outbox:changed", outboxState);
    document.addEventListener("outbox:flushed", outboxState);
    outboxState();
    var page = PAGES[body.dataset.page];
    if (page) { page(); }
    if (body.dataset.user) { box.start(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
