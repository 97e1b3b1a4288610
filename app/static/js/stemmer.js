/* Stemmer: helpers shared by the participant pages (no framework, progressive enhancement).
 *
 * - Stemmer.outbox: answers are kept in localStorage with their client_submission_id until
 *   Stemmer has confirmed them, and sent again after a growing pause, when the connection
 *   returns, or (after a 429) when the rate limit allows. The server stores an id once, so a
 *   retry can never double an answer. Nothing leaves the device on a mere "200": only
 *   Stemmer's JSON reply naming the same client_submission_id confirms an answer (a Wi-Fi
 *   login page or a proxy may answer anything). An answer Stemmer refuses (its JSON error:
 *   409, a validation error, the wall closed long ago) stays on the device, shown to the
 *   participant to correct, send again or delete.
 * - Stemmer.counter: the character counter of an answer box.
 * - Stemmer.form helpers: collect, validate and show errors.
 * - Stemmer.registerWorker: the service worker that keeps the page available offline.
 */
(function () {
  'use strict';

  var OUTBOX_KEY = 'stemmer-outbox-v1';
  var SEND_TIMEOUT_MS = 15000;
  // After a round that left answers waiting: a pause that doubles up to the cap; back to the
  // shortest once an answer gets through or the browser says it is online again.
  var RETRY_MIN_MS = 5000;
  var RETRY_MAX_MS = 120000;
  var retryMs = 0;
  var retryTimer = 0;
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

  function find(id) {
    return read().filter(function (item) { return item.id === id; })[0] || null;
  }

  function remove(ids) {
    write(read().filter(function (item) { return ids.indexOf(item.id) === -1; }));
  }

  function update(id, change) {
    write(read().map(function (item) {
      if (item.id === id) change(item);
      return item;
    }));
  }

  // Answers still to send (not refused by Stemmer).
  function queued() {
    return read().filter(function (item) { return !item.refused; });
  }

  function isJson(response) {
    return /^application\/json\s*(;|$)/i.test(response.headers.get('Content-Type') || '');
  }

  // Resolves with {status, json, data, retryAfterMs}; rejects when there was no reply.
  function sendOne(entry) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, SEND_TIMEOUT_MS) : 0;
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    Object.keys(entry.headers || {}).forEach(function (key) { headers[key] = entry.headers[key]; });
    // When it was written: an answer written before the wall closed (or the kiosk was
    // switched off) is still taken for a while (README, "JSON API").
    var body = Object.assign({}, entry.body);
    if (entry.queuedAt && !body.written_at) body.written_at = new Date(entry.queuedAt).toISOString();
    return fetch(entry.url, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      var outcome = {
        status: response.status,
        json: isJson(response),
        data: null,
        retryAfterMs: (parseInt(response.headers.get('Retry-After'), 10) || 0) * 1000
      };
      if (!outcome.json) return outcome;
      return response.json().then(function (data) {
        outcome.data = data;
        return outcome;
      }, function () {
        outcome.json = false;
        return outcome;
      });
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  /* What a reply means for the answer sent:
   * 'sent'        Stemmer stored it: its JSON names the same client_submission_id (200, 201);
   * 'refused'     Stemmer refused the answer itself: a 4xx with its JSON error object;
   * 'busy'        asked to wait (429: many answers from here just now);
   * 'offline'     Stemmer answered that it cannot take answers for a moment (5xx, 408);
   * 'unreachable' anything else: not Stemmer's reply (a Wi-Fi login page, a proxy, a
   *               firewall's 403 page), whatever its status. */
  function verdict(entry, outcome) {
    var status = outcome.status;
    var data = outcome.json && outcome.data && typeof outcome.data === 'object' ? outcome.data : null;
    if (data && (status === 200 || status === 201) && data.client_submission_id === entry.id) {
      return 'sent';
    }
    if (status === 429) return 'busy';
    if (data && (status >= 500 || status === 408)) return 'offline';
    if (data && status >= 400 && status < 500 && data.error && typeof data.error.code === 'string') {
      return 'refused';
    }
    return 'unreachable';
  }

  // Send every queued answer in order; stop at the first that cannot get through (the rest
  // wait). Answers Stemmer refused are not sent again by themselves.
  function runFlush() {
    var round = { results: {}, delivered: false, waitMs: 0 };
    var items = queued();
    var index = 0;
    function stop(entry, reason, waitMs) {
      var rest = items.slice(index - 1).map(function (item) { return item.id; });
      write(read().map(function (item) {
        if (rest.indexOf(item.id) !== -1 && !item.refused) {
          item.waiting = true;
          item.reason = reason;
        }
        return item;
      }));
      round.results[entry.id] = { state: 'queued', reason: reason };
      round.waitMs = waitMs || 0;
      return round;
    }
    function next() {
      if (index >= items.length) return Promise.resolve(round);
      var entry = items[index++];
      var stored = find(entry.id);
      if (!stored || stored.refused) return next(); // handled meanwhile by another tab
      return sendOne(entry).then(function (outcome) {
        var kind = verdict(entry, outcome);
        if (kind === 'sent') {
          // A corrected answer also settles the refused one it replaces.
          remove(entry.replaces ? [entry.id, entry.replaces] : [entry.id]);
          round.delivered = true;
          round.results[entry.id] = { state: 'sent', data: outcome.data };
          emit('sent', { entry: entry, data: outcome.data });
          return next();
        }
        if (kind === 'refused') {
          var error = outcome.data.error;
          update(entry.id, function (item) {
            item.refused = { status: outcome.status, code: error.code, message: String(error.message || '') };
          });
          round.results[entry.id] = { state: 'refused', status: outcome.status, data: outcome.data };
          emit('refused', { entry: find(entry.id) || entry, status: outcome.status, data: outcome.data });
          return next();
        }
        return stop(entry, kind, outcome.retryAfterMs);
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

  // After a round: try again later while answers wait, after a growing pause.
  function planRetry(round) {
    clearTimeout(retryTimer);
    if (round.delivered) retryMs = 0;
    if (!queued().length) {
      retryMs = 0;
      return;
    }
    retryMs = Math.min(retryMs ? retryMs * 2 : RETRY_MIN_MS, RETRY_MAX_MS);
    retryTimer = setTimeout(flush, Math.max(retryMs, round.waitMs || 0));
  }

  function flush() {
    clearTimeout(retryTimer);
    var run = chain.then(locked(runFlush)).then(function (round) {
      planRetry(round);
      emit('change', {});
      return round.results;
    });
    chain = run.catch(function () { planRetry({}); });
    return run;
  }

  var outbox = {
    /** Keep an answer until Stemmer confirms it. ``entry.replaces``: the id of a refused
     * answer this one corrects (settled when this one is sent). */
    add: function (entry) {
      var items = read();
      if (!items.some(function (item) { return item.id === entry.id; })) {
        entry.queuedAt = Date.now();
        items.push(entry);
        write(items);
      }
      emit('change', {});
    },
    /** Try to send everything; resolves with this entry's outcome: {state: 'sent', data},
     * {state: 'queued', reason: 'offline' | 'unreachable' | 'busy'} or {state: 'refused',
     * status, data: {error: {code, message}}}. */
    send: function (id) {
      return flush().then(function (results) {
        if (results[id]) return results[id];
        var entry = find(id); // another tab's round took it
        if (!entry) return { state: 'sent', data: null };
        if (entry.refused) {
          return { state: 'refused', status: entry.refused.status, data: { error: entry.refused } };
        }
        return { state: 'queued', reason: entry.reason || 'offline' };
      });
    },
    /** Delete an answer: only by the participant's choice, or when the page has put it back
     * into its form. */
    discard: function (id) {
      remove([id]);
      emit('change', {});
    },
    flush: flush,
    pending: function () { return read().length; },
    waiting: function () { return queued().filter(function (item) { return item.waiting; }).length; },
    /** Refused answers the participant has left behind (not the one in the form now). */
    refused: function () {
      return read().filter(function (item) { return item.refused && item.waiting; });
    },
    on: function (listener) { listeners.push(listener); }
  };

  window.addEventListener('online', function () {
    retryMs = 0;
    flush();
  });
  window.addEventListener('storage', function (event) {
    if (event.key === OUTBOX_KEY) emit('change', {});
  });
  // Answers kept from an earlier visit: every refused one is now one the participant left
  // behind; send the others once the page's scripts are listening.
  write(read().map(function (item) {
    if (item.refused) item.waiting = true;
    return item;
  }));
  function start() { if (queued().length) flush(); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    setTimeout(start, 0);
  }

  /* The outbox's status line, and (on a phone) the answers Stemmer did not accept.
   *
   * "Gemt – sendes, når der er forbindelse" while answers wait without a connection, "Gemt –
   * vi kan ikke nå Stemmer lige nu; vi prøver igen" when something else answered, "Gemt –
   * sendes om lidt" after a 429; "Dine gemte svar er sendt." only once Stemmer has confirmed
   * every one. ``container`` carries the messages (the outbox_status macro); ``onEdit(entry)``
   * puts a refused answer back into the page's form; without ``showTexts`` (a shared kiosk)
   * no answer's text is shown. */
  function outboxStatus(container, options) {
    if (!container) return null;
    options = options || {};
    var messages = container.dataset;
    var line = container.querySelector('.outbox-status');
    var attention = container.querySelector('.outbox-attention');
    var hadPending = false;

    function waitingText(items) {
      var reasons = items.map(function (item) { return item.reason; });
      var text = reasons.indexOf('busy') !== -1 ? messages.msgQueuedBusy
        : reasons.indexOf('unreachable') !== -1 ? messages.msgQueuedUnreachable
          : messages.msgQueued;
      if (items.length > 1) text += ' (' + messages.msgQueuedCount.replace('{n}', items.length) + ')';
      return text;
    }

    function button(label, action, id) {
      var element = document.createElement('button');
      element.type = 'button';
      element.className = 'button button-secondary';
      element.textContent = label;
      element.dataset.outboxAction = action;
      element.dataset.outboxId = id;
      return element;
    }

    function showRefused(items) {
      if (!attention) return;
      var list = attention.querySelector('ul');
      list.textContent = '';
      attention.hidden = !options.showTexts || !items.length;
      if (attention.hidden) return;
      items.forEach(function (item) {
        var entry = document.createElement('li');
        entry.className = 'outbox-item';
        var text = document.createElement('blockquote');
        text.className = 'note-text';
        // A closed question's answer shows its choice (and its follow-up, if any).
        text.textContent = [item.summary, item.body.text].filter(Boolean).join(' – ');
        var reason = document.createElement('p');
        reason.className = 'field-error';
        reason.textContent = item.refused.message;
        var actions = document.createElement('p');
        actions.className = 'actions';
        if (options.onEdit) actions.appendChild(button(messages.labelEdit, 'edit', item.id));
        actions.appendChild(button(messages.labelDiscard, 'discard', item.id));
        entry.appendChild(text);
        entry.appendChild(reason);
        entry.appendChild(actions);
        list.appendChild(entry);
      });
    }

    function render(type) {
      var waitingItems = queued().filter(function (item) { return item.waiting; });
      var refused = outbox.refused();
      line.classList.remove('is-done');
      if (waitingItems.length) {
        line.textContent = waitingText(waitingItems);
        hadPending = true;
      } else if (refused.length) {
        line.textContent = messages.msgFailed + ' ' + refused[0].refused.message +
          (refused.length > 1 ? ' (' + messages.msgFailedCount.replace('{n}', refused.length) + ')' : '');
        hadPending = false;
      } else if (hadPending && type !== 'reset') {
        line.textContent = messages.msgSent;
        line.classList.add('is-done');
        hadPending = false;
      } else {
        line.textContent = '';
      }
      showRefused(refused);
    }

    if (attention) {
      attention.addEventListener('click', function (event) {
        var target = event.target.closest('button[data-outbox-action]');
        if (!target) return;
        var entry = find(target.dataset.outboxId);
        if (!entry) return;
        if (target.dataset.outboxAction === 'edit') options.onEdit(entry);
        else outbox.discard(entry.id);
      });
    }
    outbox.on(function (type) { if (type === 'change') render(type); });
    render('reset');
    return {
      clear: function () {
        hadPending = outbox.waiting() > 0;
        render('reset');
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
    if (!textarea) return;
    textarea.setAttribute('aria-invalid', 'false');
    textarea.setAttribute('aria-describedby', textarea.id + '-hint'); // "text-hint", "q3-text-hint"
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
      field.setAttribute('aria-describedby', field.id + '-hint ' + error.id);
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

  /* "About you": the age question follows the answer to "I am" (its label, its age groups,
     or no age question at all, e.g. for someone expecting a child). The server sends the
     choices per role in data-age-questions and refuses combinations that do not fit. */
  function ageFollowsRole(age) {
    var form = age.form;
    var role = form && form.elements.namedItem(age.name.replace(/age_group$/, 'role'));
    if (!role) return;
    var questions = JSON.parse(age.dataset.ageQuestions);
    var wrapper = age.closest('[data-profile-field]');
    var label = form.querySelector('label[for="' + age.id + '"]');
    var skip = age.options[0].cloneNode(true);
    function update() {
      var question = questions[role.value];
      var kept = age.value;
      wrapper.hidden = !question;
      if (!question) {
        age.value = '';
        return;
      }
      label.textContent = question.label;
      age.replaceChildren(skip.cloneNode(true));
      question.options.forEach(function (option) {
        age.add(new Option(option[1], option[0]));
      });
      age.value = question.options.some(function (o) { return o[0] === kept; }) ? kept : '';
    }
    role.addEventListener('change', update);
    form.addEventListener('reset', function () { setTimeout(update, 0); });
    update();
  }
  Array.prototype.forEach.call(document.querySelectorAll('select[data-age-questions]'), ageFollowsRole);

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
