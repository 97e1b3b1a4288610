/* Stemmer's service worker: keeps wall and kiosk pages (and their CSS and JS) so that a
 * page reloaded without a connection still opens. Answers are not handled here: the pages
 * keep them in their outbox and send them when the connection returns.
 */
'use strict';

var CACHE = 'stemmer-__VERSION__';
var PAGE = /^\/(w|kiosk)\/[^/]+$/;
var NETWORK_TIMEOUT_MS = 5000;

function cacheable(url) {
  return url.origin === self.location.origin &&
    (PAGE.test(url.pathname) || url.pathname.indexOf('/static/') === 0);
}

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf('stemmer-') === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

// A page asks for itself and its assets to be kept.
self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type !== 'cache' || !Array.isArray(data.urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.urls.map(function (href) {
      var url = new URL(href, self.location.href);
      if (!cacheable(url)) return null;
      return fetch(url.href, { credentials: 'same-origin', cache: 'no-cache' }).then(function (response) {
        if (response.ok) return cache.put(url.href, response);
        return null;
      }).catch(function () { return null; });
    }));
  }));
});

function fromCache(request, ignoreSearch) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request.url).then(function (hit) {
      if (hit || !ignoreSearch) return hit;
      return cache.match(request.url, { ignoreSearch: true });
    });
  });
}

// Pages: the network first (fresh answers, revoked kiosks), the kept copy when offline.
function page(request) {
  var network = fetch(request).then(function (response) {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) {
      if (response.ok) return cache.put(request.url, copy);
      if (response.status === 404 || response.status === 410) return cache.delete(request.url);
      return null;
    });
    return response;
  });
  var timeout = new Promise(function (resolve) {
    setTimeout(resolve, NETWORK_TIMEOUT_MS, null);
  });
  // Offline, a kept copy of the same page with other parameters (another page of notes,
  // the other language) is better than no page at all.
  return Promise.race([network, timeout]).then(function (response) {
    if (response) return response;
    return fromCache(request, true).then(function (hit) { return hit || network; });
  }, function () {
    return fromCache(request, true).then(function (hit) { return hit || network; });
  });
}

// Static files carry a content hash in their URL: the kept copy is always right.
function asset(request) {
  return fromCache(request, false).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { return cache.put(request.url, copy); });
      }
      return response;
    });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && PAGE.test(url.pathname)) {
    event.respondWith(page(request));
  } else if (url.pathname.indexOf('/static/') === 0 && url.searchParams.has('v')) {
    event.respondWith(asset(request));
  }
});
