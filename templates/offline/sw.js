{% load static %}// The tablet's offline shell. It keeps the static assets, and the pages My day names (her own visits for today and
// tomorrow: My day, each chart and its "what is next" strip), so they open with no connection. Pages are fetched
// from the network first and fall back to the copy kept here; a page not kept answers with the "needs a
// connection" page. Writes are never handled here: the chart's outbox (static/js/outbox.js) keeps and sends them.
// Kept pages hold patient data: they belong to one nurse, are deleted at sign-out, when another user's page loads,
// and 24 hours after they were kept ({{ max_age_hours }} h, OFFLINE_PAGES_MAX_AGE_HOURS).
"use strict";

var SHELL = "shell-{{ version }}";
var PAGES = "pages";
var MAX_AGE_MS = {{ max_age_hours }} * 3600 * 1000;
var OFFLINE_PAGE = "{% url 'offline:page' %}";
var ASSETS = [OFFLINE_PAGE].concat({{ assets_json|safe }});
var MATCH = { ignoreVary: true }; // a kept page answers its address, whatever headers asked for it
// Pages My day may ask to keep: her day and her visits' charts, nothing else.
var KEEPABLE = [/^\/visits\/today\/$/, /^\/visits\/\d+\/$/, /^\/visits\/\d+\/next\/$/];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== SHELL && name !== PAGES; }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(expire).then(function () { return self.clients.claim(); }));
});

function keepable(url) {
  return url.origin === self.location.origin && KEEPABLE.some(function (pattern) { return pattern.test(url.pathname); });
}

function stamped(response, user) {
  // The copy carries when it was kept and for whom, so it can expire and never be shown to another user.
  var headers = new Headers(response.headers);
  headers.set("X-Kept-At", String(Date.now()));
  headers.set("X-Kept-For", user);
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

function keptFor(response) {
  return response && response.headers.get("X-Kept-For");
}

function fresh(response) {
  var at = response && Number(response.headers.get("X-Kept-At"));
  return Boolean(at) && Date.now() - at < MAX_AGE_MS;
}

function expire() {
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return cache.match(request, MATCH).then(function (response) { return fresh(response) ? null : cache.delete(request); });
      }));
    });
  });
}

function keepPages(user, urls) {
  // Fetch and keep what My day names; drop what it no longer names (yesterday's visits, another nurse's pages).
  var wanted = urls.map(function (url) { return new URL(url, self.location.origin); }).filter(keepable);
  var names = wanted.map(function (url) { return url.href; });
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) { return names.indexOf(request.url) < 0; }).map(function (request) {
        return cache.delete(request);
      }));
    }).then(function () {
      return Promise.all(wanted.map(function (url) {
        var headers = url.pathname.endsWith("/next/") ? { "HX-Request": "true" } : {};
        return fetch(url.href, { credentials: "same-origin", headers: headers })
          .then(function (response) {
            if (!response.ok || response.redirected) { return null; }
            return stamped(response, user).then(function (copy) { return cache.put(url.href, copy); });
          });
      }));
    });
  });
}

function forget(user) {
  // Everything kept, or only what was kept for someone other than ``user``.
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return cache.match(request, MATCH).then(function (response) {
          return !user || keptFor(response) !== user ? cache.delete(request) : null;
        });
      }));
    });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var done;
  if (data.type === "keep") {
    done = forget(data.user).then(expire).then(function () { return keepPages(data.user, data.urls || []); });
  }
  else if (data.type === "user") { done = forget(data.user); }
  else if (data.type === "forget") { done = forget(null); }
  else { return; }
  event.waitUntil(done.then(function () {
    if (event.ports && event.ports[0]) { event.ports[0].postMessage({ ok: true, at: Date.now() }); }
  }, function (error) {
    if (event.ports && event.ports[0]) { event.ports[0].postMessage({ ok: false, error: String(error) }); }
  }));
});

function fromNetworkElseKept(request, url) {
  return fetch(request).then(function (response) {
    // Online: the kept copy follows the page, for its owner (the page says whose it is when it loads).
    if (response.ok && !response.redirected && keepable(url)) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) {
        return cache.match(url.href, MATCH).then(function (kept) {
          var owner = keptFor(kept);
          return owner ? stamped(copy, owner).then(function (stampedCopy) { return cache.put(url.href, stampedCopy); }) : null;
        });
      });
    }
    return response;
  }, function () {
    return caches.open(PAGES).then(function (cache) { return cache.match(url.href, MATCH); }).then(function (kept) {
      if (kept && fresh(kept)) { return kept; }
      if (request.mode === "navigate") { return caches.match(OFFLINE_PAGE); }
      return new Response("", { status: 503, headers: { "X-Offline": "1" } });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("{{ static_prefix }}") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (request.mode === "navigate" || keepable(url)) {
    event.respondWith(fromNetworkElseKept(request, url));
  }
});
