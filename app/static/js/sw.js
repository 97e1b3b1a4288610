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

function ignore() { return null; }

self.addEventListener('install', function () {
  self.skipWaiting();
});

// A new version starts with an empty cache and deletes the old one: the pages it takes over
// see a controllerchange and ask it to keep them again (Stemmer.registerWorker).
self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf('stemmer-') === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

/* Keep one URL; resolves with false only when asking again later may help (no connection,
 * a server error). The copy comes from the browser's HTTP cache when it has one: that is the
 * response the page was just loaded from (the page itself, and the assets whose URLs carry
 * their content hash), so it is kept even when the connection drops right after loading.
 * Anything but a 200 from there is asked for again from the server. */
function copy(href, mode) {
  return fetch(href, { credentials: 'same-origin', cache: mode });
}

function keep(href) {
  var url = new URL(href, self.location.href);
  if (!cacheable(url)) return Promise.resolve(true);
  return copy(url.href, 'force-cache').then(function (response) {
    return response.ok ? response : copy(url.href, 'no-cache');
  }).then(function (response) {
    // A redirected response cannot answer a navigation: nothing to keep at this URL.
    if (response.redirected) return true;
    return remember(url.href, response).then(function () { return response.status < 500; });
  }).catch(function () { return false; });
}

// A page asks for itself and its assets to be kept, and is told which ones could not be.
self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type !== 'cache' || !Array.isArray(data.urls)) return;
  var port = event.ports && event.ports[0];
  event.waitUntil(Promise.all(data.urls.map(keep)).then(function (kept) {
    var missing = data.urls.filter(function (href, index) { return !kept[index]; });
    if (port) port.postMessage({ type: 'cached', missing: missing });
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

// A fresh copy replaces the kept one; a page that is gone (revoked kiosk) is forgotten.
function remember(url, response) {
  return caches.open(CACHE).then(function (cache) {
    if (response.ok) return cache.put(url, response);
    if (response.status === 404 || response.status === 410) return cache.delete(url);
    return null;
  });
}

// Pages: the network first (fresh answers, revoked kiosks), the kept copy when offline.
function page(event) {
  var request = event.request;
  var stored = Promise.resolve();
  var network = fetch(request).then(function (response) {
    stored = remember(request.url, response.clone());
    return response;
  });
  // The worker stays alive until the copy is written.
  event.waitUntil(network.then(function () { return stored; }).catch(ignore));
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
function asset(event) {
  var request = event.request;
  var stored = Promise.resolve();
  var response = fromCache(request, false).then(function (hit) {
    return hit || fetch(request).then(function (fresh) {
      if (fresh.ok) stored = remember(request.url, fresh.clone());
      return fresh;
    });
  });
  event.waitUntil(response.then(function () { return stored; }).catch(ignore));
  return response;
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && PAGE.test(url.pathname)) {
    event.respondWith(page(event));
  } else if (url.pathname.indexOf('/static/') === 0 && url.searchParams.has('v')) {
    event.respondWith(asset(event));
  }
});
