/* The kiosk: one person after another on a shared tablet.
 *
 * Choose a question, write, send, thanks, and back to the start; after the device's idle
 * time without a touch (with a warning first) the screen also starts over. Starting over
 * removes everything the previous person typed or chose from the page. Answers go through
 * the offline outbox with the device token, so a dropped connection loses nothing.
 */
(function () {
  'use strict';
  var S = window.Stemmer;
  var form = document.querySelector('form.kiosk-form');
  if (!S || !form) return;
  S.registerWorker('/kiosk/');

  var config = form.dataset;
  var idleMs = (parseFloat(config.idle) || 60) * 1000;
  // Warn 20 s before starting over (WCAG 2.2.1), or halfway for short idle times.
  var warnMs = idleMs >= 40000 ? idleMs - 20000 : idleMs / 2;
  var thanksMs = (parseFloat(config.thanks) || 10) * 1000;
  var textarea = form.querySelector('textarea');
  var idField = form.querySelector('input[name="client_submission_id"]');
  var submit = form.querySelector('button[type="submit"]');
  var back = form.querySelector('[data-action="back"]');
  var chooseStep = form.querySelector('[data-step="choose"]');
  var writeStep = form.querySelector('[data-step="write"]');
  var fieldset = document.getElementById('prompt-choices');
  var chosenLine = document.getElementById('kiosk-chosen');
  var radios = Array.prototype.slice.call(form.querySelectorAll('input[name="prompt_id"]'));
  // Closed questions (a scale, a choice): forms of their own, shown one at a time.
  var closedForms = Array.prototype.slice.call(document.querySelectorAll('form.closed-form'));
  var total = radios.length + closedForms.length;
  var thanks = document.getElementById('kiosk-thanks');
  var idle = document.getElementById('kiosk-idle');
  var title = document.getElementById('kiosk-title');
  // A shared tablet: the status line only, never the text of someone else's answer.
  var status = S.outboxStatus(document.getElementById('outbox'), { showTexts: false });
  var count = S.counter(textarea, config.lang);
  var prompt = null; // the chosen prompt: {id, text}
  var timers = [];

  document.documentElement.classList.add('kiosk-js');

  /* Question tiles: buttons, so that arrow keys never jump ahead a step. */
  var tiles = document.createElement('ul');
  tiles.className = 'kiosk-tiles';
  function addTile(id, text) {
    var item = document.createElement('li');
    var tile = document.createElement('button');
    tile.type = 'button';
    tile.className = 'kiosk-tile';
    tile.dataset.promptId = id;
    tile.textContent = text;
    item.appendChild(tile);
    tiles.appendChild(item);
  }
  closedForms.forEach(function (closed) {
    closed.hidden = true;
    var backButton = closed.querySelector('[data-action="back"]');
    backButton.hidden = total < 2;
    backButton.addEventListener('click', function () {
      showStep('choose');
      heading.focus();
    });
    addTile(closed.dataset.prompt, closed.querySelector('legend').textContent.trim());
  });
  radios.forEach(function (radio) {
    var label = form.querySelector('label[for="' + radio.id + '"]');
    addTile(radio.value, label ? label.textContent.trim() : radio.value);
  });
  var heading = document.createElement('h2');
  heading.className = 'kiosk-question-heading';
  heading.id = 'choose-heading';
  heading.tabIndex = -1;
  heading.textContent = fieldset.querySelector('legend').textContent;
  fieldset.hidden = true;
  chooseStep.appendChild(heading);
  chooseStep.appendChild(tiles);
  back.hidden = total < 2;

  function closedForm(id) {
    return closedForms.filter(function (f) { return f.dataset.prompt === String(id); })[0];
  }

  function choose(id) {
    var closed = closedForm(id);
    if (closed) {
      prompt = { id: parseInt(id, 10), text: closed.querySelector('legend').textContent.trim() };
      showStep('closed', closed);
      closed.querySelector('.option-list input').focus();
      return;
    }
    var radio = radios.filter(function (r) { return r.value === String(id); })[0];
    if (!radio) return;
    radio.checked = true;
    var label = form.querySelector('label[for="' + radio.id + '"]');
    prompt = { id: parseInt(radio.value, 10), text: label ? label.textContent.trim() : '' };
    chosenLine.textContent = prompt.text;
    chosenLine.hidden = false;
    showStep('write');
    textarea.focus();
  }

  function showStep(name, closed) {
    form.hidden = name === 'closed';
    chooseStep.hidden = name !== 'choose';
    writeStep.hidden = name !== 'write';
    closedForms.forEach(function (f) { f.hidden = f !== closed; });
  }

  tiles.addEventListener('click', function (event) {
    var tile = event.target.closest('.kiosk-tile');
    if (tile) choose(tile.dataset.promptId);
  });
  back.addEventListener('click', function () {
    showStep('choose');
    heading.focus();
  });

  /* Starting over: nothing of the previous person stays on the page. */
  function clearTimers() {
    timers.forEach(clearTimeout);
    timers = [];
  }

  function startOver() {
    clearTimers();
    idle.hidden = true;
    if (config.resetUrl && navigator.onLine !== false) {
      // Back to the wall's own language for the next person (offline: stay, clear in place).
      window.location.replace(config.resetUrl);
      return;
    }
    S.clearErrors(form);
    textarea.value = '';
    textarea.defaultValue = '';
    radios.forEach(function (r) { r.checked = false; r.defaultChecked = false; });
    Array.prototype.forEach.call(form.querySelectorAll('select'), function (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        option.defaultSelected = false;
      });
      select.value = '';
    });
    Array.prototype.forEach.call(document.querySelectorAll('details'), function (d) {
      d.open = false;
    });
    Array.prototype.forEach.call(thanks.querySelectorAll('[data-slot]'), function (el) {
      el.textContent = '';
    });
    closedForms.forEach(resetClosed);
    prompt = null;
    chosenLine.textContent = '';
    chosenLine.hidden = true;
    idField.value = S.newId();
    count.update(false);
    submit.disabled = false;
    thanks.hidden = true;
    form.hidden = false;
    if (total === 1) {
      choose(onlyPrompt());
    } else {
      showStep('choose');
    }
    window.scrollTo(0, 0);
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    title.focus({ preventScroll: true });
  }

  function atStart() {
    return !prompt && !textarea.value && thanks.hidden &&
      !Array.prototype.some.call(document.querySelectorAll('form select'), function (s) { return s.value; });
  }

  function onlyPrompt() {
    return radios.length ? radios[0].value : closedForms[0].dataset.prompt;
  }

  /* A closed question's form for the next person: nothing chosen, nothing written. */
  function resetClosed(closed) {
    Array.prototype.forEach.call(closed.querySelectorAll('input[type="radio"], input[type="checkbox"]'),
      function (box) { box.checked = false; box.defaultChecked = false; });
    Array.prototype.forEach.call(closed.querySelectorAll('textarea'), function (box) {
      box.value = '';
      box.defaultValue = '';
    });
    Array.prototype.forEach.call(closed.querySelectorAll('select'), function (select) {
      Array.prototype.forEach.call(select.options, function (option) { option.defaultSelected = false; });
      select.value = '';
    });
    Array.prototype.forEach.call(closed.querySelectorAll('.field-error, .error-summary'), function (el) {
      el.parentNode.removeChild(el);
    });
    closed.querySelector('input[name$="client_submission_id"]').value = S.newId();
    closed.querySelector('button[type="submit"]').disabled = false;
    closed.hidden = true;
  }

  function closedError(closed, message) {
    Array.prototype.forEach.call(closed.querySelectorAll('.field-error'), function (el) {
      el.parentNode.removeChild(el);
    });
    var error = document.createElement('p');
    error.className = 'field-error';
    error.setAttribute('role', 'alert');
    error.textContent = message;
    closed.querySelector('fieldset').appendChild(error);
    closed.querySelector('.option-list input').focus();
  }

  /* Sending a closed question's answer: through the outbox with the device token. */
  closedForms.forEach(function (closed) {
    var data = closed.dataset;
    closed.addEventListener('submit', function (event) {
      event.preventDefault();
      var checked = Array.prototype.filter.call(closed.querySelectorAll('.option-list input'),
        function (box) { return box.checked; });
      var ids = checked.map(function (box) { return box.value; });
      var value = !ids.length ? null : data.kind === 'multiple' ? ids
        : data.kind === 'scale' ? parseInt(ids[0], 10) : ids[0];
      var followUp = closed.querySelector('textarea');
      var written = followUp ? followUp.value : '';
      if (value === null && !S.length(written)) {
        closedError(closed, data.msgChoose);
        return;
      }
      if (S.length(written) > 1000) {
        closedError(closed, data.msgTooLong);
        return;
      }
      var words = checked.map(function (box) {
        var label = closed.querySelector('label[for="' + box.id + '"] .option-label');
        return label ? label.textContent.trim() : box.value;
      }).join(', ');
      var profile = {};
      ['role', 'age_group', 'area'].forEach(function (name) {
        var field = closed.querySelector('select[name="' + data.prefix + name + '"]');
        if (field && field.value) profile[name] = field.value;
      });
      var id = closed.querySelector('input[name$="client_submission_id"]').value;
      var body = { prompt_id: parseInt(data.prompt, 10), client_submission_id: id, profile: profile };
      if (value !== null) body.value = value;
      if (S.length(written)) body.text = written;
      var button = closed.querySelector('button[type="submit"]');
      button.disabled = true;
      S.outbox.add({
        id: id,
        url: data.api,
        headers: { 'X-Kiosk-Device': config.device, 'Content-Language': config.lang },
        summary: words,
        body: body
      });
      S.outbox.send(id).then(function (result) {
        button.disabled = false;
        if (result.state === 'refused') {
          S.outbox.discard(id);
          closed.querySelector('input[name$="client_submission_id"]').value = S.newId();
          closedError(closed, S.errorMessage(result, config.msgFailed));
          armIdle();
          return;
        }
        thanks.querySelector('[data-slot="prompt"]').textContent = prompt ? prompt.text : '';
        thanks.querySelector('[data-slot="text"]').textContent =
          [words, written.trim()].filter(Boolean).join(' – ');
        var line = thanks.querySelector('[data-slot="status"]');
        if (result.state === 'queued') {
          line.textContent = result.reason === 'busy' ? config.msgKeptBusy
            : result.reason === 'unreachable' ? config.msgKeptUnreachable : config.msgKept;
        } else {
          line.textContent = result.data && result.data.status === 'pending'
            ? config.msgPending : config.msgApproved;
        }
        closed.hidden = true;
        form.hidden = true;
        thanks.hidden = false;
        thanks.focus();
        armIdle();
      });
    });
  });

  function armIdle() {
    clearTimers();
    if (!thanks.hidden) {
      timers.push(setTimeout(startOver, thanksMs));
      return;
    }
    if (atStart()) return;
    timers.push(setTimeout(function () {
      idle.hidden = false;
      idle.querySelector('button').focus();
    }, warnMs));
    timers.push(setTimeout(startOver, idleMs));
  }

  function activity(event) {
    var inDialog = event && event.target && event.target.closest &&
      event.target.closest('#kiosk-idle');
    if (!idle.hidden && !inDialog) idle.hidden = true;
    armIdle();
  }

  ['pointerdown', 'keydown', 'input', 'touchstart', 'wheel'].forEach(function (type) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  });
  idle.querySelector('button').addEventListener('click', function () {
    idle.hidden = true;
    armIdle();
    var open = closedForms.filter(function (f) { return !f.hidden; })[0];
    if (open) open.querySelector('.option-list input').focus();
    else (writeStep.hidden ? heading : textarea).focus();
  });

  /* Sending: through the outbox with the device token. */
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var promptId = prompt ? prompt.id : null;
    var problem = S.validate(form, promptId, radios[0], count.max);
    if (problem) {
      if (!promptId) {
        showStep('choose');
        heading.focus();
        return;
      }
      S.showError(form, problem[0], problem[1]);
      return;
    }
    var data = S.collect(form, promptId);
    submit.disabled = true;
    S.outbox.add({
      id: data.client_submission_id,
      url: config.api,
      headers: { 'X-Kiosk-Device': config.device, 'Content-Language': config.lang },
      body: {
        prompt_id: data.prompt_id,
        text: data.text,
        client_submission_id: data.client_submission_id,
        profile: data.profile
      }
    });
    S.outbox.send(data.client_submission_id).then(function (result) {
      submit.disabled = false;
      if (result.state === 'refused') {
        // Stemmer refused it: the text stays in the form with the reason, to correct.
        S.outbox.discard(data.client_submission_id);
        idField.value = S.newId();
        S.showError(form, textarea, S.errorMessage(result, config.msgFailed));
        armIdle();
        return;
      }
      thanks.querySelector('[data-slot="prompt"]').textContent = prompt.text;
      thanks.querySelector('[data-slot="text"]').textContent = data.text.trim();
      var line = thanks.querySelector('[data-slot="status"]');
      if (result.state === 'queued') {
        line.textContent = result.reason === 'busy' ? config.msgKeptBusy
          : result.reason === 'unreachable' ? config.msgKeptUnreachable : config.msgKept;
      } else {
        line.textContent = result.data && result.data.status === 'approved'
          ? config.msgApproved : config.msgPending;
      }
      form.hidden = true;
      thanks.hidden = false;
      thanks.focus();
      armIdle();
    });
  });

  thanks.querySelector('[data-action="restart"]').addEventListener('click', startOver);

  /* A kiosk stays on its wall: no long-press menus outside the text box, full screen on the
   * first touch where the browser allows it. */
  document.addEventListener('contextmenu', function (event) {
    if (!event.target.closest('textarea, input, select')) event.preventDefault();
  });
  document.addEventListener('pointerdown', function fullscreen() {
    document.removeEventListener('pointerdown', fullscreen);
    var root = document.documentElement;
    if (document.fullscreenEnabled && !document.fullscreenElement && root.requestFullscreen) {
      root.requestFullscreen().catch(function () { /* not allowed here */ });
    }
  });

  if (status) status.clear();
  idField.value = S.newId();
  closedForms.forEach(function (closed) {
    closed.querySelector('input[name$="client_submission_id"]').value = S.newId();
  });
  if (total === 1) {
    choose(onlyPrompt());
    title.focus({ preventScroll: true });
  } else {
    radios.forEach(function (r) { r.checked = false; });
    showStep('choose');
  }
  // After a plain-form error the server showed the text again: keep working on it.
  if (textarea.value && radios.some(function (r) { return r.defaultChecked; })) {
    var checked = radios.filter(function (r) { return r.defaultChecked; })[0];
    var kept = textarea.value;
    choose(checked.value);
    textarea.value = kept;
    count.update(false);
  }
  // After a plain-form error on a closed question: that question again, as it was sent.
  var refusedClosed = closedForms.filter(function (f) { return f.querySelector('.error-summary'); })[0];
  if (refusedClosed) choose(refusedClosed.dataset.prompt);
  armIdle();
}());
