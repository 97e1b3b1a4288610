/* Live wall: new approved answers by server-sent events, falling back to polling.
 * Once themes exist, a cloud of them is kept up to date the same way ("themes").
 * On a projector (one screen, no scrolling) the page shows as many notes as fit and rotates
 * through the newest every few seconds; the theme cloud's type gets smaller until every theme
 * fits; a note a presenter spotlights is shown large instead of the notes. */
(function () {
  'use strict';
  var root = document.getElementById('live');
  if (!root) return;
  var list = document.getElementById('live-notes');
  var empty = document.getElementById('live-empty');
  var side = document.getElementById('live-side');
  var themesPanel = document.getElementById('live-themes');
  var cloud = document.getElementById('live-cloud');
  var wall = document.getElementById('live-wall');
  var spot = document.getElementById('live-spotlight');
  var spotText = document.getElementById('live-spotlight-text');
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
  var ROTATE_MS = parseInt(config.rotateMs, 10) || 8000;
  var SPOTLIGHT_MS = 3000;
  var RESULT_MS = 3000; // a closed question's live result
  var projector = window.matchMedia('(min-width: 75rem) and (min-height: 40rem)');
  var pageStart = 0;   // index of the first note shown on the projector
  var pageEnd = 0;     // index after the last one

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
    pageStart = 0;  // a new note is shown at once, first
    fitNotes();
  }

  function takeDown(id) {
    var existing = find(id);
    if (existing) existing.parentNode.removeChild(existing);
    empty.hidden = list.children.length > 0;
    fitNotes();
  }

  /* The notes on a projector: from pageStart, as many as fit inside the wall (at least one);
   * the others wait for their turn. Elsewhere every note is shown and the page scrolls. */
  function fitNotes() {
    var items = Array.prototype.slice.call(list.children);
    if (!projector.matches || !wall || wall.hidden) {
      items.forEach(function (item) { item.hidden = false; });
      pageEnd = items.length;
      return;
    }
    if (pageStart >= items.length) pageStart = 0;
    items.forEach(function (item) { item.hidden = true; });
    wall.scrollTop = 0;
    // Layout positions inside the wall (its CSS makes it their offsetParent), not the
    // bounding boxes: a new note's entry animation moves and scales it for a moment.
    var limit = wall.clientHeight;
    var index = pageStart;
    for (; index < items.length; index++) {
      var item = items[index];
      item.hidden = false;
      if (index > pageStart && item.offsetTop + item.offsetHeight > limit) {
        item.hidden = true;
        break;
      }
    }
    pageEnd = index;
  }

  function rotate() {
    var count = list.children.length;
    if (projector.matches && (pageStart > 0 || pageEnd < count)) {
      pageStart = pageEnd >= count ? 0 : pageEnd;
      fitNotes();
    }
  }

  /* The spotlight: one note, large, in place of the notes; asked for every few seconds. */
  function showSpotlight(data) {
    if (!spot || !data) return;
    var on = data.id !== null && data.id !== undefined;
    if (on) {
      spotText.textContent = String(data.text);
      spotText.classList.toggle('is-long', spotText.textContent.length > (parseInt(spotText.dataset.long, 10) || 180));
      spotText.dataset.id = String(data.id);
    }
    spot.hidden = !on;
    if (wall.hidden !== on) {
      wall.hidden = on;
      fitNotes();
    }
  }

  function pollSpotlight() {
    if (!config.spotlight) return;
    fetch(config.spotlight, { headers: { 'Accept': 'application/json' }, cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(showSpotlight)
      .catch(function () { /* try again next time */ })
      .then(function () { setTimeout(pollSpotlight, SPOTLIGHT_MS); });
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
    side.hidden = items.length === 0;
    fitThemes();
    setTimeout(fitThemes, 700);  // again once the entry animation (a transform) is over
  }

  /* On a projector the page never scrolls: the cloud's type gets smaller in steps until every
   * theme fits the panel; only if even the smallest step is too big are the smallest themes
   * (last) left out rather than shown as half a bubble. */
  var DENSE = ['is-dense-1', 'is-dense-2', 'is-dense-3', 'is-dense-4'];

  function fitThemes() {
    if (!cloud || themesPanel.hidden) return;
    var items = Array.prototype.slice.call(cloud.children);
    items.forEach(function (item) { item.hidden = false; });
    DENSE.forEach(function (name) { cloud.classList.remove(name); });
    var panel = themesPanel.getBoundingClientRect();
    var limit = panel.bottom - (parseFloat(getComputedStyle(themesPanel).paddingBottom) || 0);
    function overflows() {
      var last = items[items.length - 1];
      return items.length > 0 && last.getBoundingClientRect().bottom > limit + 1;
    }
    for (var step = 0; step < DENSE.length && overflows(); step++) {
      if (step > 0) cloud.classList.remove(DENSE[step - 1]);
      cloud.classList.add(DENSE[step]);
    }
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
  fitNotes();
  window.addEventListener('resize', fitNotes);
  // Measure again once the fonts are in: a note's height changes with them.
  function refit() {
    fitNotes();
    fitThemes();
  }
  window.addEventListener('load', refit);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(refit);
  setInterval(rotate, ROTATE_MS);
  setTimeout(pollSpotlight, SPOTLIGHT_MS);
  connect();

  /* A closed question's result, asked for again every few seconds (the server keeps it for
   * two): the bars and numbers change in place; the share as the server formats it would
   * need a round trip per number, so the page writes it as a whole percent. */
  var resultPanel = document.getElementById('live-result');
  if (resultPanel) setTimeout(pollResult, RESULT_MS);

  function pollResult() {
    fetch(resultPanel.dataset.url, { headers: { 'Accept': 'application/json' }, cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(showResult)
      .catch(function () { /* try again next time */ })
      .then(function () { setTimeout(pollResult, RESULT_MS); });
  }

  function showResult(data) {
    resultPanel.querySelector('[data-slot="respondents"]').textContent = String(data.respondents);
    data.options.forEach(function (option) {
      var row = resultPanel.querySelector('li[data-id="' + option.id + '"]');
      if (!row) return;
      row.querySelector('progress').value = Math.round(option.share * 1000);
      var percent = Math.round(option.share * 100).toLocaleString(document.documentElement.lang);
      row.querySelector('[data-slot="count"]').textContent =
        option.count + ' (' + percent + '\u00a0%)';
    });
  }
}());
