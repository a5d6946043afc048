/*
 * The outbox (待上传): every record made on /m/ is saved here first, in IndexedDB with its
 * photos, and sent from here. An entry leaves the outbox only when the server has stored it
 * (201, or 200 for a client_id it already has), so a closed page, a restarted phone, an
 * upload cut halfway or an expired session loses nothing; the client_id makes every resend
 * safe. Entries the server refused (422, 404 …) stay, marked failed with its message, until
 * the worker edits or deletes them.
 *
 * Entry: {id (the client_id), kind, user, label, created, fields, files: {name: [Blob]},
 *         status: "pending" | "failed" | "auth", message, field, tries}
 */
(function () {
  "use strict";

  var DB = "gezhi-mobile", STORE = "outbox", API = "/api/v1/";
  // Where each kind is sent. `form`: multipart with the photos; otherwise JSON.
  var KINDS = {
    event: { form: true, path: function () { return "events/with-photos"; } },
    diary: { form: true, path: function () { return "fieldwork/diary/with-photos"; } },
    visit: { form: true, path: function () { return "fieldwork/visits/with-photos"; } },
    patrol_start: { path: function () { return "fieldwork/patrols"; } },
    patrol_points: { path: function (e) { return "fieldwork/patrols/" + e.patrol + "/points"; } },
    patrol_stop: { path: function (e) { return "fieldwork/patrols/" + e.patrol + "/stop"; } }
  };
  var RETRY_MS = 60 * 1000;
  var dbPromise = null, running = null, again = null;

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore(STORE, { keyPath: "id" }).createIndex("created", "created");
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), result;
        var store = t.objectStore(STORE);
        var req = work(store);
        if (req) { req.onsuccess = function () { result = req.result; }; }
        t.oncomplete = function () { resolve(result); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }

  function all() {
    return tx("readonly", function (s) { return s.index("created").getAll(); });
  }
  function get(id) { return tx("readonly", function (s) { return s.get(id); }); }
  function put(entry) { return tx("readwrite", function (s) { return s.put(entry); }).then(changed); }
  function remove(id) { return tx("readwrite", function (s) { return s.delete(id); }).then(changed); }

  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function currentUser() { return document.body.dataset.user || ""; }

  // Saved for good before anything is sent; the browser is asked to keep the storage.
  function add(kind, fields, options) {
    options = options || {};
    var entry = {
      id: options.id || uuid(), kind: kind, user: currentUser(), label: options.label || "",
      created: options.created || new Date().toISOString(), fields: fields,
      files: options.files || {}, patrol: options.patrol || null,
      status: "pending", message: "", field: "", tries: 0
    };
    if (navigator.storage && navigator.storage.persist) { navigator.storage.persist(); }
    return put(entry).then(function () { return entry; });
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function body(entry) {
    var spec = KINDS[entry.kind];
    if (!spec.form) {
      var data = Object.assign({}, entry.fields);
      if (entry.kind === "patrol_start") { data.client_id = entry.patrol; }
      return JSON.stringify(data);
    }
    var form = new FormData();
    form.append("client_id", entry.id);
    Object.keys(entry.fields).forEach(function (name) {
      var value = entry.fields[name];
      (Array.isArray(value) ? value : [value]).forEach(function (v) {
        if (v !== null && v !== undefined && v !== "") { form.append(name, String(v)); }
      });
    });
    Object.keys(entry.files || {}).forEach(function (name) {
      entry.files[name].forEach(function (blob, i) {
        form.append(name, blob, name + "-" + (i + 1) + ".jpg");
      });
    });
    return form;
  }

  // One attempt. Resolves to "sent", "offline" (try again later), "auth" or "failed".
  function send(entry) {
    var spec = KINDS[entry.kind], payload = body(entry);
    var headers = { "X-CSRFToken": csrf(), "Accept": "application/json" };
    if (typeof payload === "string") { headers["Content-Type"] = "application/json"; }
    return fetch(API + spec.path(entry), {
      method: "POST", body: payload, headers: headers, credentials: "same-origin", redirect: "manual"
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 401) { return { state: "auth" }; }
      return res.json().then(function (data) { return data; }, function () { return null; })
        .then(function (data) {
          if (res.ok && data) { return { state: "sent", data: data }; }
          if (res.status === 403 && data && data.code === "csrf_failed") { return { state: "auth" }; }
          if (res.ok || res.status >= 500 || res.status === 408 || res.status === 429) {
            return { state: "offline" };  // the server had a problem: keep and retry
          }
          return {
            state: "failed",
            message: (data && data.message) || res.status + " " + res.statusText,
            field: (data && data.details && data.details.field) || ""
          };
        });
    }, function () { return { state: "offline" }; });
  }

  // Send what can be sent, oldest first. A patrol's points and stop wait for its start. Two
  // open pages take turns (Web Locks), so one entry is not sent by both at once.
  function flush() {
    // Already sending: go round once more afterwards, for entries saved meanwhile.
    if (running) {
      var next = function () { again = null; return flush(); };
      again = again || running.then(next, next);
      return again;
    }
    running = (navigator.locks ? navigator.locks.request("gezhi-outbox", sendAll) : sendAll())
      .then(function (report) {
        running = null;
        document.dispatchEvent(new CustomEvent("outbox:flushed", { detail: report }));
        return report;
      }, function (error) {
        running = null;
        throw error;
      });
    return running;
  }

  function sendAll() {
    return all().then(function (entries) {
      var user = currentUser(), waiting = {}, report = { sent: [], stopped: "" };
      var queue = entries.filter(function (e) { return e.user === user && e.status !== "failed"; });
      entries.forEach(function (e) { if (e.kind === "patrol_start") { waiting[e.patrol] = true; } });
      function next(i) {
        if (i >= queue.length) { return report; }
        var entry = queue[i];
        if (entry.patrol && entry.kind !== "patrol_start" && waiting[entry.patrol]) { return next(i + 1); }
        return send(entry).then(function (out) {
          if (out.state === "sent") {
            remember(entry, out.data);
            report.sent.push({ entry: entry, data: out.data });
            if (entry.kind === "patrol_start") { delete waiting[entry.patrol]; }
            return remove(entry.id).then(function () { return next(i + 1); });
          }
          if (out.state === "offline") { report.stopped = "offline"; return report; }
          entry.tries += 1;
          entry.status = out.state;
          entry.message = out.message || "";
          entry.field = out.field || "";
          if (out.state === "auth") {
            report.stopped = "auth";
            return put(entry).then(function () { return report; });
          }
          return put(entry).then(function () { return next(i + 1); });
        });
      }
      return next(0);
    });
  }

  // The last few entries sent, for the 待上传 page ("已上传").
  function remember(entry, data) {
    var sent = JSON.parse(localStorage.getItem("gezhi.m.sent") || "[]");
    sent.unshift({ kind: entry.kind, label: entry.label, at: new Date().toISOString(),
                   ref: (data && (data.serial || data.id || (data.event && data.event.serial))) || "" });
    localStorage.setItem("gezhi.m.sent", JSON.stringify(sent.slice(0, 20)));
  }

  function changed() {
    document.dispatchEvent(new CustomEvent("outbox:changed"));
  }

  function start() {
    window.addEventListener("online", flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && navigator.onLine) { flush(); }
    });
    setInterval(function () { if (navigator.onLine) { flush(); } }, RETRY_MS);
    return flush();
  }

  window.GezhiOutbox = {
    add: add, all: all, get: get, put: put, remove: remove, flush: flush, start: start, uuid: uuid
  };
})();
