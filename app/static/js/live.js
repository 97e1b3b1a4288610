/* Live wall: new approved answers by server-sent events, falling back to polling.
 * Once themes exist, a cloud of them is kept up to date the same way ("themes"). */
(function () {
  'use strict';
  var root = document.getElementById('live');
  if (!root) return;
  var list = document.getElementById('live-notes');
  var empty = document.getElementById('live-empty');
  var side = document.getElementById('live-side');
  var themesPanel = document.getElementById('live-themes');
  var cloud = document.getElementById('live-cloud');
  var hasReply = !!(side && side.querySelector('.live-reply'));
  var config = root.dataset;
  var max = parseInt(config.max, 10) || 24;
  var filtered = config.filtered === '1';
  var cursor = config.cursor;
  var POLL_MS = 2000;
  var FIRST_EVENT_MS = 6000;   // no event this long after connecting: the stream is blocked
  var SILENCE_MS = 40000;      // the server pings every 15 s
  // While polling, try the stream again now and then: a busy server may have room again.
  var RETRY_STREAM_MS = parseInt(config.retryStreamMs, 10) || 60000;
  var source = null;
  var watchdog = 0;
  var retry = 0;
  var polling = false;
  var pollRound = 0;

  function find(id) {
    return list.querySelector('.live-note[data-id="' + id + '"]');
  }

  function show(note) {
    var existing = find(note.id);
    if (existing) {
      if (existing.dataset.version !== note.version) {
        existing.querySelector('.live-text').textContent = note.text;
        existing.dataset.version = note.version;
      }
      return;
    }
    var item = document.createElement('li');
    item.className = 'live-note is-new';
    item.dataset.id = note.id;
    item.dataset.version = note.version;
    if (!filtered) {
      var label = document.createElement('p');
      label.className = 'live-prompt';
      label.textContent = note.prompt;
      item.appendChild(label);
    }
    var text = document.createElement('p');
    text.className = 'live-text';
    text.textContent = note.text;
    item.appendChild(text);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > max) list.removeChild(list.lastChild);
    empty.hidden = true;
  }

  function takeDown(id) {
    var existing = find(id);
    if (existing) existing.parentNode.removeChild(existing);
    empty.hidden = list.children.length > 0;
  }

  /* The theme cloud: labels as text (never HTML), sizes as classes (the CSP forbids styles). */
  var shownThemes = null;

  function showThemes(themes) {
    if (!cloud || !Array.isArray(themes)) return;
    var signature = JSON.stringify(themes);
    if (signature === shownThemes) return;
    shownThemes = signature;
    var before = {};
    Array.prototype.forEach.call(cloud.children, function (item) {
      before[item.dataset.id] = item.dataset.count;
    });
    var unit = cloud.dataset.many || '';
    var one = cloud.dataset.one || unit;
    var items = themes.map(function (theme) {
      var size = Math.max(1, Math.min(6, parseInt(theme.size, 10) || 1));
      var count = parseInt(theme.count, 10) || 0;
      var item = document.createElement('li');
      item.className = 'cloud-theme cloud-size-' + size;
      if (before[String(theme.id)] !== String(count)) item.className += ' is-new';
      item.dataset.id = String(theme.id);
      item.dataset.count = String(count);
      var label = document.createElement('span');
      label.className = 'cloud-label';
      label.textContent = String(theme.label);
      var number = document.createElement('span');
      number.className = 'cloud-count';
      number.textContent = count + ' ' + (count === 1 ? one : unit);
      item.appendChild(label);
      item.appendChild(document.createTextNode(' '));
      item.appendChild(number);
      return item;
    });
    while (cloud.firstChild) cloud.removeChild(cloud.firstChild);
    items.forEach(function (item) { cloud.appendChild(item); });
    themesPanel.hidden = items.length === 0;
    side.hidden = items.length === 0 && !hasReply;
    fitThemes();
    setTimeout(fitThemes, 700);  // again once the entry animation (a transform) is over
  }

  /* On a projector the page never scrolls: leave out the smallest themes (last) rather than
   * show half a bubble. */
  function fitThemes() {
    if (!cloud || themesPanel.hidden) return;
    var items = Array.prototype.slice.call(cloud.children);
    items.forEach(function (item) { item.hidden = false; });
    var panel = themesPanel.getBoundingClientRect();
    var limit = panel.bottom - (parseFloat(getComputedStyle(themesPanel).paddingBottom) || 0);
    items.forEach(function (item, index) {
      if (index > 0 && item.getBoundingClientRect().bottom > limit + 1) item.hidden = true;
    });
  }

  function withSince(url) {
    return url + (url.indexOf('?') === -1 ? '?' : '&') + 'since=' + encodeURIComponent(cursor);
  }

  /* Polling fallback, until a stream works again. */
  function poll() {
    if (polling) return;
    polling = true;
    var round = ++pollRound;
    function tick() {
      if (!polling || round !== pollRound) return;
      fetch(withSince(config.updates), { headers: { 'Accept': 'application/json' }, cache: 'no-store' })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          data.notes.forEach(show);
          data.removed.forEach(takeDown);
          if (data.themes) showThemes(data.themes);
          cursor = String(data.cursor);
        })
        .catch(function () { /* try again on the next tick */ })
        .then(function () { setTimeout(tick, POLL_MS); });
    }
    tick();
  }

  function fallBack() {
    clearTimeout(watchdog);
    if (source) source.close();
    source = null;
    poll();
    if (window.EventSource) {
      clearTimeout(retry);
      retry = setTimeout(connect, RETRY_STREAM_MS);
    }
  }

  function alive(event) {
    polling = false;  // the stream works: no more polling
    if (event && event.lastEventId) cursor = event.lastEventId;
    clearTimeout(watchdog);
    watchdog = setTimeout(fallBack, SILENCE_MS);
  }

  function connect() {
    if (!window.EventSource) {
      poll();
      return;
    }
    source = new EventSource(withSince(config.events));
    watchdog = setTimeout(fallBack, FIRST_EVENT_MS);
    source.addEventListener('note', function (event) {
      alive(event);
      show(JSON.parse(event.data));
    });
    source.addEventListener('remove', function (event) {
      alive(event);
      takeDown(JSON.parse(event.data).id);
    });
    source.addEventListener('themes', function (event) {
      alive(event);
      showThemes(JSON.parse(event.data).themes);
    });
    source.addEventListener('ping', alive);
    source.addEventListener('error', function () {
      // The server ends each stream after a while and the browser reconnects by itself
      // (CONNECTING); a refused stream (CLOSED) means: poll instead.
      if (source && source.readyState === EventSource.CLOSED) fallBack();
    });
  }

  if (cloud) {
    fitThemes();
    window.addEventListener('resize', fitThemes);
  }
  connect();
}());
