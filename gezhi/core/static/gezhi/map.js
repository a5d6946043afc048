/*
 * Gezhi maps: one module for every map page (situation map, region and grid pages, the
 * public 我的网格员 lookup). A page marks a <div data-gezhi-map="..."> and embeds its data
 * with json_script; nothing is fetched from outside the site.
 *
 * Base layer: data-tile-url (settings.GEZHI_TILE_URL). Empty means no tiles at all, so maps
 * work on an offline intranet: the polygons are drawn on a plain background with a scale bar.
 */
(function () {
  "use strict";

  var COLORS = {
    basic: "#2563a8",
    dedicated: "#c26a00",
    region: "#5b6b7d",
    found: "#c8102e"
  };

  function style(kind, extra) {
    var color = COLORS[kind] || COLORS.region;
    var base = { color: color, weight: 1.5, opacity: 0.9, fillColor: color, fillOpacity: 0.16 };
    return Object.assign(base, extra || {});
  }

  function readJSON(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { el.textContent = attrs[key]; } else { el.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      if (child) { el.appendChild(typeof child === "string" ? document.createTextNode(child) : child); }
    });
    return el;
  }

  /* Keep in step with the `initials` filter in gezhi/core/templatetags/gezhi.py. */
  function initials(name) {
    name = (name || "").trim();
    if (!name) { return "?"; }
    if (/[\u3400-\u9fff\uf900-\ufaff]/.test(name.charAt(0))) {
      return name.length >= 3 ? name.slice(-2) : name;
    }
    return name.split(/[\s.·-]+/).filter(Boolean).slice(0, 2)
      .map(function (w) { return w.charAt(0); }).join("").toUpperCase();
  }

  function telHref(phone) {
    phone = (phone || "").trim();
    return "tel:" + (phone.charAt(0) === "+" ? "+" : "") + phone.replace(/[^\d]/g, "");
  }

  /* Few areas (the communities of a subdistrict): name them on the map for orientation. */
  var LABEL_LIMIT = 30;

  function label(layer, text, many) {
    if (many) {
      layer.bindTooltip(text, { sticky: true });
    } else {
      layer.bindTooltip(text, { permanent: true, direction: "center", className: "map-label" });
    }
  }

  /* A Leaflet map in el, with the base layer el asks for (or none) and a scale bar. Page
   * scripts (event point picker, 随手拍, patrol route) build theirs with it too. */
  function createMap(el, options) {
    var map = L.map(el, { zoomControl: true, attributionControl: false, zoomSnap: 0.25 });
    var tileUrl = el.dataset.tileUrl;
    if (tileUrl) {
      var maxZoom = (options && options.maxZoom) || 18;
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: maxZoom }).addTo(map);
    } else {
      el.classList.add("map--plain");
    }
    L.control.scale({ imperial: false }).addTo(map);
    el._gezhiMap = map;
    return map;
  }

  /* Show the first valid of bounds and fallback (LatLngBounds or null), else all of China. */
  function fit(map, bounds, fallback, options) {
    var target = [bounds, fallback].filter(function (b) { return b && b.isValid(); })[0];
    if (target) {
      map.fitBounds(target, Object.assign({ padding: [12, 12], maxZoom: 17 }, options || {}));
    } else {
      map.setView([35.86, 104.19], 4);
    }
  }

  /* Situation map (作战图): grids coloured by kind, a popup with name, code and staff. */
  function gridPopup(p) {
    var title = p.url ? h("a", { href: p.url, text: p.name }) : document.createTextNode(p.name);
    var box = h("div", { "class": "map-popup" }, [
      h("p", { "class": "map-popup__title" }, [title]),
      h("p", { "class": "map-popup__meta", text: [p.code, p.kind_label, p.purpose, p.community].filter(Boolean).join(" · ") })
    ]);
    if (p.staff && p.staff.length) {
      var list = h("ul", { "class": "map-popup__staff" });
      p.staff.forEach(function (s) {
        list.appendChild(h("li", { text: s.kind_label + " " + s.name + (s.phone ? " " + s.phone : "") }));
      });
      box.appendChild(list);
    }
    return box;
  }

  function initGrids(el) {
    var map = createMap(el);
    var data = readJSON(el.dataset.geojson) || { type: "FeatureCollection", features: [] };
    var layer = L.geoJSON(data, {
      style: function (f) { return style(f.properties.kind); },
      onEachFeature: function (f, l) {
        l.bindPopup(function () { return gridPopup(f.properties); });
        l.bindTooltip(f.properties.name, { sticky: true });
        l.on("mouseover", function () { l.setStyle({ weight: 3, fillOpacity: 0.3 }); });
        l.on("mouseout", function () { layer.resetStyle(l); });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    var marks = readJSON(el.dataset.marks);
    if (!bounds.isValid() && marks && marks.houses && marks.houses.length) {
      bounds = L.latLngBounds(marks.houses.map(function (row) { return [row[1], row[2]]; }));
    }
    fit(map, bounds);
    addHouseMarks(map, marks, el.dataset.houseUrl);
  }

  /* Tagged households (画像) on the situation map: one dot per house (not per person, so a
     city of tens of thousands stays a few thousand dots), coloured by its first tag. Data:
     {tags: {id: {name, colour}}, houses: [[id, lat, lon, address, [[tag id, people], …]], …]}
     The dots live in their own pane above the grids; the pane lets clicks through to the grid
     underneath except on a dot. */
  function addHouseMarks(map, data, urlPattern) {
    if (!data || !data.houses || !data.houses.length) { return; }
    var pane = map.createPane("houses");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    var group = L.featureGroup();
    var seen = {};
    data.houses.forEach(function (row) {
      var tags = row[4];
      var first = data.tags[tags[0][0]] || {};
      var marker = L.circleMarker(spread(row[1], row[2], seen), {
        pane: "houses", radius: 6, color: "#fff", weight: 1.5, className: "house-mark",
        fillColor: first.colour || "#6b7280", fillOpacity: 0.95
      });
      marker.bindTooltip(row[3], { direction: "top" });
      marker.bindPopup(function () {
        var url = urlPattern ? urlPattern.replace(/0\/$/, row[0] + "/") : null;
        var title = url ? h("a", { href: url, text: row[3] }) : document.createTextNode(row[3]);
        var list = h("ul", { "class": "map-popup__staff" });
        tags.forEach(function (t) {
          var tag = data.tags[t[0]] || {};
          list.appendChild(h("li", {}, [
            h("span", { "class": "legend__dot", style: "--chip: " + (tag.colour || "#6b7280"), "aria-hidden": "true" }),
            " " + (tag.name || "") + " (" + t[1] + ")"
          ]));
        });
        return h("div", { "class": "map-popup" }, [h("p", { "class": "map-popup__title" }, [title]), list]);
      });
      group.addLayer(marker);
    });
    group.addTo(map);
  }

  /* Houses of one building share its point: lay the later ones on a small sunflower spiral
     around it (about 3 m apart), so each stays visible and clickable when zoomed in. */
  function spread(lat, lon, seen) {
    var key = lat + "," + lon;
    var i = seen[key] = (seen[key] || 0) + 1;
    if (i === 1) { return [lat, lon]; }
    var r = 3 * Math.sqrt(i - 1);
    var angle = (i - 1) * 2.39996;
    return [lat + r * Math.cos(angle) / 111320,
            lon + r * Math.sin(angle) / (111320 * Math.cos(lat * Math.PI / 180))];
  }

  /* A place's page (house, building, estate, organisation, component): its grid's outline
     and its point(s). Data: {outline: FeatureCollection, points: [{lat, lon, label, url, colour}]} */
  function initPoints(el) {
    var map = createMap(el);
    var data = readJSON(el.dataset.geojson) || {};
    var points = data.points || [];
    // Leaflet draws vector layers only once the map has a view: place it first.
    if (points.length === 1) {
      map.setView([points[0].lat, points[0].lon], 17);
    } else {
      fit(map, L.latLngBounds(points.map(function (p) { return [p.lat, p.lon]; })));
    }
    if (data.outline && data.outline.features.length) {
      L.geoJSON(data.outline, { style: style("region", { fillOpacity: 0.05, weight: 1.5, dashArray: "6 4" }), interactive: false }).addTo(map);
    }
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: 8, color: "#fff", weight: 2, fillColor: p.colour || COLORS.basic, fillOpacity: 1
      }).addTo(map);
      marker.bindTooltip(p.label, { direction: "top" });
      if (p.url) {
        marker.bindPopup(function () {
          return h("div", { "class": "map-popup" }, [h("p", { "class": "map-popup__title" }, [h("a", { href: p.url, text: p.label })])]);
        });
      }
    });
  }

  /* A region's page: its children's boundaries inside its own outline. */
  function initRegion(el) {
    var map = createMap(el);
    var outline = readJSON(el.dataset.outline);
    var bounds = L.latLngBounds([]);
    if (outline && outline.features.length) {
      var o = L.geoJSON(outline, { style: style("region", { fillOpacity: 0, weight: 2, dashArray: "6 4" }), interactive: false }).addTo(map);
      bounds.extend(o.getBounds());
    }
    var data = readJSON(el.dataset.geojson);
    if (data && data.features.length) {
      var layer = L.geoJSON(data, {
        style: function (f) { return style(f.properties.kind); },
        onEachFeature: function (f, l) {
          label(l, f.properties.name, data.features.length > LABEL_LIMIT);
          l.bindPopup(function () {
            return h("div", { "class": "map-popup" }, [
              h("p", { "class": "map-popup__title" }, [h("a", { href: f.properties.url, text: f.properties.name })]),
              h("p", { "class": "map-popup__meta", text: f.properties.code + " · " + (f.properties.level_label || "") })
            ]);
          });
        }
      }).addTo(map);
      bounds.extend(layer.getBounds());
    }
    fit(map, bounds);
  }

  /* A grid's page: its boundary. */
  function initGrid(el) {
    var map = createMap(el);
    var data = readJSON(el.dataset.geojson);
    var layer = L.geoJSON(data, { style: function (f) { return style(f.properties.kind, { weight: 2.5 }); } }).addTo(map);
    fit(map, layer.getBounds());
  }

  /* The public lookup (我的网格员): click or locate, ask the public API, show the staff. */
  function initLookup(el) {
    var map = createMap(el);
    var messages = {};
    var tpl = document.getElementById("lookup-messages");
    if (tpl) {
      tpl.content.querySelectorAll("[data-key]").forEach(function (n) { messages[n.dataset.key] = n.textContent.trim(); });
    }
    var result = document.getElementById(el.dataset.result);
    var outlines = readJSON(el.dataset.geojson);
    var bounds = readJSON(el.dataset.bounds);
    var outlineLayer = L.geoJSON(outlines || { type: "FeatureCollection", features: [] }, {
      style: style("region", { fillOpacity: 0.04, weight: 1, dashArray: "4 4" }),
      onEachFeature: function (f, l) { label(l, f.properties.name, outlines.features.length > LABEL_LIMIT); }
    }).addTo(map);
    fit(map, bounds ? L.latLngBounds(bounds) : null, outlineLayer.getBounds());

    var found = L.layerGroup().addTo(map);
    var pending = null;

    function say(text, kind) {
      result.replaceChildren(h("p", { "class": "alert alert--" + (kind || "info"), role: kind === "warn" ? "alert" : "status", text: text }));
    }

    function showPoint(lat, lon, geometry) {
      found.clearLayers();
      if (geometry) {
        var g = L.geoJSON(geometry, { style: style("found", { weight: 3, fillOpacity: 0.12, className: "map-found" }), interactive: false }).addTo(found);
        map.fitBounds(g.getBounds(), { padding: [16, 16], maxZoom: 17 });
      }
      L.circleMarker([lat, lon], { radius: 7, color: "#fff", weight: 2, fillColor: COLORS.found, fillOpacity: 1, className: "map-point", interactive: false }).addTo(found);
    }

    function staffCard(s) {
      var avatar = s.photo_url
        ? h("img", { "class": "avatar", src: s.photo_url, alt: s.name, width: "56", height: "56" })
        : h("span", { "class": "avatar avatar--initials", "aria-hidden": "true", text: initials(s.name) });
      var body = h("div", { "class": "staff-card__body" }, [
        h("p", { "class": "staff-card__post", text: s.kind_label }),
        h("p", { "class": "staff-card__name", text: s.name }),
        s.title ? h("p", { "class": "staff-card__title", text: s.title }) : null,
        s.phone ? h("p", { "class": "staff-card__phone" }, [
          h("a", { href: telHref(s.phone), "aria-label": (messages.call || "") + " " + s.name + " " + s.phone, text: s.phone })
        ]) : null
      ]);
      return h("li", { "class": "staff-card" }, [avatar, body]);
    }

    function render(data) {
      var grid = data.grid;
      var where = [grid.subdistrict, grid.community].filter(Boolean).join(" · ");
      var kindLabel = messages["kind_" + grid.grid_kind] || grid.grid_kind;
      var head = h("header", { "class": "grid-result__head" }, [
        h("h3", { id: "grid-" + grid.code, text: grid.name }),
        h("p", { "class": "grid-result__where" }, [
          where + " ",
          h("span", { "class": "tag tag--" + grid.grid_kind, text: kindLabel }),
          grid.purpose ? " " + grid.purpose : null
        ]),
        grid.description ? h("p", { "class": "grid-result__scope" }, [
          h("span", { "class": "grid-result__scope-label", text: messages.scope || "" }), grid.description
        ]) : null
      ]);
      var staff = data.staff && data.staff.length
        ? h("ul", { "class": "staff-cards" }, data.staff.map(staffCard))
        : h("p", { "class": "muted", text: messages.no_staff || "" });
      result.replaceChildren(h("article", { "class": "grid-result", "aria-labelledby": "grid-" + grid.code }, [head, staff]));
      result.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }

    function lookup(lat, lon) {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      showPoint(lat, lon, null);
      say(messages.searching || "…", "info");
      var url = el.dataset.lookupUrl + "?lat=" + encodeURIComponent(lat.toFixed(6)) + "&lon=" + encodeURIComponent(lon.toFixed(6));
      fetch(url, { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (response) {
          return response.json().then(function (body) { return { status: response.status, body: body }; });
        })
        .then(function (r) {
          if (r.status === 200) {
            showPoint(lat, lon, r.body.grid.boundary);
            render(r.body);
          } else if (r.status === 404) {
            say(messages.outside || r.body.message, "warn");
          } else {
            say((r.body && r.body.message) || messages.failed, "warn");
          }
        })
        .catch(function (err) {
          if (err.name === "AbortError") { return; }
          // The API is unreachable: let the server answer the same question without it.
          window.location.assign("?lat=" + lat.toFixed(6) + "&lon=" + lon.toFixed(6) + "#results");
        });
    }

    map.on("click", function (e) { lookup(e.latlng.lat, e.latlng.lng); });

    var button = document.getElementById("use-location");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        if (!("geolocation" in navigator)) { say(messages.unsupported, "warn"); return; }
        say(messages.locating || "…", "info");
        navigator.geolocation.getCurrentPosition(function (pos) {
          lookup(pos.coords.latitude, pos.coords.longitude);
        }, function (err) {
          say(err.code === 1 ? messages.denied : messages.unavailable, "warn");
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    // A result rendered by the server for /?lat=&lon= (no JavaScript needed to get it).
    if (el.dataset.pointLat && el.dataset.pointLon) {
      showPoint(parseFloat(el.dataset.pointLat), parseFloat(el.dataset.pointLon), readJSON("point-grid"));
    }
  }

  var INIT = { grids: initGrids, region: initRegion, grid: initGrid, lookup: initLookup, points: initPoints };

  function start() {
    document.querySelectorAll("[data-gezhi-map]").forEach(function (el) {
      var init = INIT[el.dataset.gezhiMap];
      if (init && window.L) { init(el); }
    });
    // Filter forms that apply as soon as a choice changes.
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  window.GezhiMap = {
    createMap: createMap, fit: fit, readJSON: readJSON, initials: initials, telHref: telHref
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
