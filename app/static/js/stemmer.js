/* Stemmer: helpers shared by the participant pages (no framework, progressive enhancement).
 *
 * - Stemmer.outbox: answers are kept in localStorage with their client_submission_id until
 *   the server has confirmed them, and re-sent when the connection returns (or, after a 429,
 *   when the rate limit allows). The server stores an id once, so a retry can never double
 *   an answer.
 * - Stemmer.counter: the character counter of an answer box.
 * - Stemmer.form helpers: collect, validate and show errors.
 * - Stemmer.registerWorker: the service worker that keeps the page available offline.
 */
(function () {
  'use strict';

  var OUTBOX_KEY = 'stemmer-outbox-v1';
  var SEND_TIMEOUT_MS = 15000;
  var RETRY_MS = 10000;
  var memory = null; // used when localStorage is unavailable
  var listeners = [];
  var chain = Promise.resolve();

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = '';
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] + 256).toString(16).slice(1);
    return hex;
  }

  function read() {
    if (memory) return memory.slice();
    try {
      var items = JSON.parse(window.localStorage.getItem(OUTBOX_KEY) || '[]');
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function write(items) {
    if (!memory) {
      try {
        window.localStorage.setItem(OUTBOX_KEY, JSON.stringify(items));
        return;
      } catch (e) {
        memory = [];
      }
    }
    memory = items.slice();
  }

  function emit(type, detail) {
    listeners.forEach(function (listener) {
      try { listener(type, detail); } catch (e) { /* a broken listener must not stop others */ }
    });
  }

  function has(id) {
    return read().some(function (item) { return item.id === id; });
  }

  function remove(id) {
    write(read().filter(function (item) { return item.id !== id; }));
  }

  function sendOne(entry) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, SEND_TIMEOUT_MS) : 0;
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    Object.keys(entry.headers || {}).forEach(function (key) { headers[key] = entry.headers[key]; });
    return fetch(entry.url, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(entry.body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  // Entries that could not be sent: these are the ones the page says are waiting, and why:
  // 'busy' when the server asked to wait (429: many answers from here just now), else
  // 'offline' (no connection, a timeout, the server or its database unavailable).
  function markWaiting(ids, reason) {
    write(read().map(function (item) {
      if (ids.indexOf(item.id) !== -1) {
        item.waiting = true;
        item.reason = reason;
      }
      return item;
    }));
  }

  function waiting() {
    return read().filter(function (item) { return item.waiting; }).length;
  }

  function busy() {
    return read().some(function (item) { return item.waiting && item.reason === 'busy'; });
  }

  function retryable(status) {
    return status >= 500 || status === 408 || status === 429 || status === 0;
  }

  // Send every waiting answer in order; stop at the first network problem (the rest wait).
  function runFlush() {
    var results = {};
    var items = read();
    var index = 0;
    function stop(entry, reason) {
      var rest = items.slice(index - 1).map(function (item) { return item.id; });
      markWaiting(rest, reason);
      results[entry.id] = { state: 'queued', reason: reason };
      return results;
    }
    function next() {
      if (index >= items.length) return Promise.resolve(results);
      var entry = items[index++];
      if (!has(entry.id)) return next(); // sent meanwhile by another tab
      return sendOne(entry).then(function (outcome) {
        if (outcome.status === 200 || outcome.status === 201) {
          remove(entry.id);
          results[entry.id] = { state: 'sent', data: outcome.data };
          emit('sent', { entry: entry, data: outcome.data });
          return next();
        }
        if (retryable(outcome.status)) {
          return stop(entry, outcome.status === 429 ? 'busy' : 'offline');
        }
        remove(entry.id);
        results[entry.id] = { state: 'failed', status: outcome.status, data: outcome.data };
        emit('failed', { entry: entry, status: outcome.status, data: outcome.data });
        return next();
      }, function () { return stop(entry, 'offline'); });
    }
    return next();
  }

  function locked(task) {
    return function () {
      if (navigator.locks && navigator.locks.request) {
        return navigator.locks.request('stemmer-outbox', task);
      }
      return task();
    };
  }

  function flush() {
    var run = chain.then(locked(runFlush)).then(function (results) {
      emit('change', { pending: read().length });
      return results;
    });
    chain = run.catch(function () { /* keep the chain alive */ });
    return run;
  }

  var outbox = {
    /** Keep an answer until the server confirms it. */
    add: function (entry) {
      var items = read();
      if (!items.some(function (item) { return item.id === entry.id; })) {
        entry.queuedAt = Date.now();
        items.push(entry);
        write(items);
      }
      emit('change', { pending: items.length });
    },
    /** Try to send everything; resolves with this entry's outcome (sent, queued, failed;
     * a queued one has a reason: 'busy' or 'offline'). */
    send: function (id) {
      return flush().then(function (results) {
        if (results[id]) return results[id];
        return { state: has(id) ? 'queued' : 'sent', data: null };
      });
    },
    flush: flush,
    pending: function () { return read().length; },
    waiting: waiting,
    on: function (listener) { listeners.push(listener); }
  };

  window.addEventListener('online', function () { flush(); });
  window.addEventListener('storage', function (event) {
    if (event.key === OUTBOX_KEY) emit('change', { pending: read().length });
  });
  setInterval(function () { if (read().length) flush(); }, RETRY_MS);

  /* Status line: "Gemt – sendes, når der er forbindelse" while answers wait ("Gemt – sendes
   * om lidt" when the server asked to wait). */
  function outboxStatus(element, messages) {
    if (!element) return;
    var hadPending = false;
    var sticky = false;
    function update(type) {
      var pending = waiting();
      if (pending === 0 && sticky) return;
      sticky = false;
      element.classList.remove('is-done');
      if (pending > 0) {
        var text = busy() ? messages.msgQueuedBusy : messages.msgQueued;
        if (pending > 1) text += ' (' + messages.msgQueuedCount.replace('{n}', pending) + ')';
        element.textContent = text;
        hadPending = true;
      } else if (hadPending && type !== 'reset') {
        element.textContent = messages.msgSent;
        element.classList.add('is-done');
        hadPending = false;
      } else {
        element.textContent = '';
      }
    }
    outbox.on(function (type, detail) {
      if (type === 'change') update(type);
      if (type === 'failed' && detail.entry.waiting) {
        // An answer kept from earlier was refused (e.g. the wall has closed): say so.
        var error = detail.data && detail.data.error;
        element.textContent = messages.msgFailed + ' ' + (error ? error.message : detail.status);
        hadPending = false;
        sticky = true;
      }
    });
    update('reset');
    if (read().length) flush();
    return {
      clear: function () {
        hadPending = waiting() > 0;
        sticky = false;
        update('reset');
      }
    };
  }

  /* Text as the server will store it (normalisation as in surveys/text.py, roughly). */
  function normalised(value) {
    var text = value.normalize ? value.normalize('NFC') : value;
    text = text.replace(/\r\n?/g, '\n')
      .replace(/[\u200B\u200E\u200F\u2060\uFEFF\u00AD\u202A-\u202E\u2066-\u2069]/g, '');
    text = text.split('\n').map(function (line) {
      return line.replace(/[^\S\n]+/g, ' ').trim();
    }).join('\n').replace(/\n{3,}/g, '\n\n');
    return text.trim();
  }

  function length(value) {
    return Array.from(normalised(value)).length;
  }

  function formatNumber(n, lang) {
    try { return n.toLocaleString(lang); } catch (e) { return String(n); }
  }

  /* The character counter: visible at once, announced to screen readers after a pause. */
  function counter(textarea, lang) {
    var max = parseInt(textarea.dataset.max, 10) || 1000;
    var visible = document.getElementById('text-counter');
    var spoken = document.getElementById('text-counter-status');
    var timer = 0;
    textarea.removeAttribute('maxlength'); // show "too many" instead of cutting pasted text
    if (visible) visible.hidden = false;
    function message() {
      var count = length(textarea.value);
      if (count > max) {
        return { over: true, text: textarea.dataset.counterOver.replace('{n}', formatNumber(count - max, lang)) };
      }
      return { over: false, text: textarea.dataset.counter.replace('{n}', formatNumber(count, lang)) };
    }
    function update(announce) {
      var current = message();
      if (visible) {
        visible.textContent = current.text;
        visible.classList.toggle('is-over', current.over);
      }
      clearTimeout(timer);
      if (announce && spoken) {
        timer = setTimeout(function () { spoken.textContent = message().text; }, 1200);
      } else if (spoken) {
        spoken.textContent = '';
      }
    }
    textarea.addEventListener('input', function () { update(true); });
    update(false);
    return { update: update, max: max };
  }

  /* Form helpers shared by the phone wall and the kiosk. */
  function collect(form, promptId) {
    var data = {
      prompt_id: promptId,
      text: form.querySelector('textarea').value,
      client_submission_id: form.querySelector('input[name="client_submission_id"]').value,
      profile: {}
    };
    ['role', 'age_group', 'area'].forEach(function (name) {
      var field = form.querySelector('select[name="' + name + '"]');
      if (field && field.value) data.profile[name] = field.value;
    });
    return data;
  }

  function clearErrors(form) {
    var summary = document.getElementById('error-summary');
    if (summary) summary.parentNode.removeChild(summary);
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (el) {
      el.parentNode.removeChild(el);
    });
    var textarea = form.querySelector('textarea');
    textarea.setAttribute('aria-invalid', 'false');
    textarea.setAttribute('aria-describedby', 'text-hint');
  }

  function showError(form, field, message) {
    clearErrors(form);
    var error = document.createElement('p');
    error.className = 'field-error';
    error.id = (field.id || 'field') + '-error';
    error.setAttribute('role', 'alert');
    error.textContent = message;
    if (field.tagName === 'TEXTAREA') {
      field.setAttribute('aria-invalid', 'true');
      field.setAttribute('aria-describedby', 'text-hint ' + error.id);
      field.parentNode.insertBefore(error, field.nextSibling);
    } else {
      var fieldset = field.closest('fieldset') || field.parentNode;
      fieldset.appendChild(error);
    }
    field.focus();
  }

  /* Checks before sending; returns [field, message] or null. */
  function validate(form, promptId, promptField, maxLength) {
    var messages = form.dataset;
    var textarea = form.querySelector('textarea');
    if (!promptId) return [promptField, messages.msgPrompt];
    var count = length(textarea.value);
    if (count === 0) return [textarea, messages.msgEmpty];
    if (count > maxLength) return [textarea, messages.msgTooLong];
    return null;
  }

  function errorMessage(result, fallback) {
    if (result && result.data && result.data.error && result.data.error.message) {
      return result.data.error.message;
    }
    return fallback;
  }

  /* The service worker keeps the page (and its CSS/JS) so a reload offline still works.
   *
   * The page asks the active worker to keep its URLs and waits for the answer; once all
   * are kept, <html data-offline="ready"> says so. What could not be kept (the server was
   * unreachable) is asked for again when the connection returns and, since "online" may
   * come before the connection works, after a growing pause. A new version of the worker
   * starts with an empty cache: when it takes over the page, everything is asked for again. */
  var WORKER_ANSWER_MS = 30000;
  var KEEP_RETRY_MS = 2000;
  var KEEP_RETRY_MAX_MS = 60000;

  function pageUrls() {
    var urls = [window.location.href];
    Array.prototype.forEach.call(
      document.querySelectorAll('link[rel="stylesheet"], script[src]'),
      function (el) { urls.push(el.href || el.src); }
    );
    return urls;
  }

  // Resolves with the URLs the worker could not keep (all of them when it does not answer).
  function askToKeep(worker, urls) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      var timer = setTimeout(function () { resolve(urls); }, WORKER_ANSWER_MS);
      channel.port1.onmessage = function (event) {
        clearTimeout(timer);
        var missing = event.data && event.data.missing;
        resolve(Array.isArray(missing) ? missing : urls);
      };
      worker.postMessage({ type: 'cache', urls: urls }, [channel.port2]);
    });
  }

  function registerWorker(scope) {
    var url = document.body.dataset.sw;
    if (!url || !('serviceWorker' in navigator) || !window.isSecureContext) return;
    var root = document.documentElement;
    var container = navigator.serviceWorker;
    var missing = pageUrls();
    var asking = false;
    var again = false;
    var asked = null; // the worker asked last
    var retryMs = 0;
    var retryTimer = 0;

    function later(registration) {
      if (navigator.onLine === false) return; // the "online" event asks again
      retryMs = Math.min(retryMs ? retryMs * 2 : KEEP_RETRY_MS, KEEP_RETRY_MAX_MS);
      retryTimer = setTimeout(function () { keep(registration); }, retryMs);
    }

    function keep(registration) {
      var worker = registration.active || container.controller;
      clearTimeout(retryTimer);
      if (!worker || !missing.length) return;
      if (asking) {
        again = true; // e.g. a new worker took over while the old one was still answering
        return;
      }
      asking = true;
      asked = worker;
      askToKeep(worker, missing).then(function (left) {
        asking = false;
        if (again) {
          again = false;
          keep(registration);
          return;
        }
        missing = left;
        if (missing.length) {
          later(registration);
        } else {
          retryMs = 0;
          root.dataset.offline = 'ready';
        }
      });
    }

    container.register(url, { scope: scope }).then(function () {
      return container.ready;
    }).then(function (registration) {
      window.addEventListener('online', function () {
        retryMs = 0;
        keep(registration);
      });
      container.addEventListener('controllerchange', function () {
        // The first claim comes from the worker already asked; a new version has nothing.
        if (container.controller === asked) return;
        missing = pageUrls();
        delete root.dataset.offline;
        keep(registration);
      });
      keep(registration);
    }).catch(function () { /* no offline copy; the page still works online */ });
  }

  window.Stemmer = {
    newId: newId,
    outbox: outbox,
    outboxStatus: outboxStatus,
    counter: counter,
    length: length,
    collect: collect,
    validate: validate,
    showError: showError,
    clearErrors: clearErrors,
    errorMessage: errorMessage,
    registerWorker: registerWorker
  };
}());
