/*
 * Service worker of the mobile workbench (scope /m/). It keeps the app shell on the phone:
 * static files (cache first, one cache per shell version) and the workbench pages (network
 * first, the kept copy when there is no network or it is too slow). Pages carry personal data,
 * so they are dropped when the worker logs out on /m/ or the server no longer knows the
 * session. Records are never sent from here: the pages' outbox does that (outbox.js).
 */
"use strict";

var CONFIG = {{ config|safe }};
var STATIC = "gezhi-m-static-" + CONFIG.version;
var PAGES = "gezhi-m-pages";
var SLOW_MS = 4000;  // weak signal in a stairwell: show the kept page rather than wait
var KEEP_MAX = 20;  // pages a page may ask to keep besides the shell (households due)

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) {
    return cache.addAll(CONFIG.assets);  // versioned addresses: the HTTP cache may answer
  }).then(function () { return warmPages(true); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("gezhi-m-static-") === 0 && key !== STATIC;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

// Fetch the shell pages not kept yet (all of them for a new version: they name its files),
// with the worker's session. A page that answers with a redirect (to the login page) is not
// kept; a page that cannot be fetched keeps its old copy.
function warmPages(all, keep) {
  var urls = CONFIG.pages.concat((keep || []).filter(function (url) {
    return typeof url === "string" && url.indexOf(CONFIG.scope) === 0;
  }).slice(0, KEEP_MAX));
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return cache.match(url, { ignoreVary: true }).then(function (hit) {
        if (hit && all !== true) { return null; }
        return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (res) {
          return res.ok && res.type === "basic" ? cache.put(url, res) : null;
        }, function () { return null; });
      });
    }));
  });
}

self.addEventListener("message", function (event) {
  var type = event.data && event.data.type;
  var done = event.ports && event.ports[0];
  var work = type === "warm" ? warmPages(false, event.data.keep)
    : type === "forget" ? caches.delete(PAGES) : null;
  if (work) {
    event.waitUntil(work.then(function () { if (done) { done.postMessage("ok"); } }));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf(CONFIG.static_url) === 0) {
    event.respondWith(staticFile(request));
  } else if (url.pathname.indexOf(CONFIG.scope) === 0 && url.pathname !== CONFIG.scope + "sw.js") {
    event.respondWith(page(request));
  }
});

function staticFile(request) {
  return caches.open(STATIC).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      // A kept page of an older version names its files with the old ?v=: the new copy will do.
      return hit || cache.match(request, { ignoreVary: true, ignoreSearch: true });
    }).then(function (hit) {
      return hit || fetch(request).then(function (res) {
        if (res.ok) { cache.put(request, res.clone()); }
        return res;
      });
    });
  });
}

function kept(request) {
  return caches.open(PAGES).then(function (cache) {
    // Pages vary by cookie and language on the server; here there is one worker's session.
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      // Another query (…?house=12) of a kept page: the page reads its query itself.
      return hit || cache.match(request, { ignoreVary: true, ignoreSearch: true });
    });
  });
}

function page(request) {
  var network = fetch(request).then(function (res) {
    if (res.type === "opaqueredirect" || res.redirected) {
      // Logged out or the session ended: keep no personal pages on the phone.
      return caches.delete(PAGES).then(function () { return res; });
    }
    if (res.ok) {
      var copy = res.clone();
      caches.open(PAGES).then(function (cache) { return cache.put(request, copy); });
    }
    return res;
  });
  var slow = new Promise(function (resolve) {
    setTimeout(function () { kept(request).then(resolve); }, SLOW_MS);
  });
  var fallback = function () {
    return kept(request).then(function (hit) {
      return hit || caches.open(PAGES).then(function (cache) { return cache.match(CONFIG.offline_url, { ignoreVary: true }); })
        .then(function (offline) { return offline || Response.error(); });
    });
  };
  return Promise.race([network, slow.then(function (hit) { return hit || network; })])
    .catch(fallback);
}
