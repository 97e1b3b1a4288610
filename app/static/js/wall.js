/* The phone wall: counter, answers through the offline outbox, thanks in place, "enig". */
(function () {
  'use strict';
  var S = window.Stemmer;
  var form = document.querySelector('form.answer-form');
  if (S) S.registerWorker('/w/');
  if (!form || !S) {
    // A closed wall: no form, but answers kept on this phone are still sent or shown.
    if (S) S.outboxStatus(document.getElementById('outbox'), { showTexts: true });
    enhanceAgree();
    return;
  }
  var messages = form.dataset;
  var textarea = form.querySelector('textarea');
  var idField = form.querySelector('input[name="client_submission_id"]');
  var submit = form.querySelector('button[type="submit"]');
  var radios = Array.prototype.slice.call(form.querySelectorAll('input[name="prompt_id"]'));
  var panel = document.getElementById('js-thanks');
  var count = S.counter(textarea, messages.lang);
  var answered = [];
  var shown = null; // the answer on the thanks panel: {id, promptId}
  var correcting = null; // the id of a refused answer put back into the form
  S.outboxStatus(document.getElementById('outbox'), { showTexts: true, onEdit: correct });

  // A page from the offline cache carries an old id: every visit gets its own.
  idField.value = S.newId();

  function chosen() {
    var radio = radios.filter(function (r) { return r.checked; })[0];
    return radio ? parseInt(radio.value, 10) : null;
  }

  function promptText(id) {
    var radio = radios.filter(function (r) { return parseInt(r.value, 10) === id; })[0];
    var label = radio && form.querySelector('label[for="' + radio.id + '"]');
    return label ? label.textContent.trim() : '';
  }

  function nextPrompt(after) {
    var ids = radios.map(function (r) { return parseInt(r.value, 10); });
    var start = ids.indexOf(after);
    for (var step = 1; step < ids.length; step++) {
      var candidate = ids[(start + step) % ids.length];
      if (answered.indexOf(candidate) === -1) return candidate;
    }
    return null;
  }

  function slot(name) { return panel.querySelector('[data-slot="' + name + '"]'); }

  function statusText(result) {
    if (result.state === 'queued') {
      if (result.reason === 'busy') return messages.msgKeptBusy;
      return result.reason === 'unreachable' ? messages.msgKeptUnreachable : messages.msgKept;
    }
    var data = result.data;
    return data && data.status === 'approved' ? messages.msgApproved : messages.msgPending;
  }

  function showThanks(data, result) {
    answered.push(data.prompt_id);
    shown = { id: data.client_submission_id, promptId: data.prompt_id };
    slot('prompt').textContent = promptText(data.prompt_id);
    slot('text').textContent = S.length(data.text) ? data.text.trim() : '';
    var line = slot('status');
    line.textContent = statusText(result);
    line.classList.toggle('is-queued', result.state === 'queued');
    slot('next-item').hidden = nextPrompt(data.prompt_id) === null;
    form.hidden = true;
    panel.hidden = false;
    panel.focus();
  }

  function showForm(promptId) {
    shown = null;
    correcting = null;
    panel.hidden = true;
    form.hidden = false;
    textarea.value = '';
    idField.value = S.newId();
    count.update(false);
    S.clearErrors(form);
    radios.forEach(function (r) { r.checked = parseInt(r.value, 10) === promptId; });
    var target = radios.filter(function (r) { return r.checked; })[0] || textarea;
    target.focus();
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var promptId = chosen();
    var problem = S.validate(form, promptId, radios[0], count.max);
    if (problem) {
      S.showError(form, problem[0], problem[1]);
      return;
    }
    var data = S.collect(form, promptId);
    S.clearErrors(form);
    submit.disabled = true;
    S.outbox.add({
      id: data.client_submission_id,
      url: messages.api,
      headers: { 'Content-Language': messages.lang },
      replaces: correcting,
      body: {
        prompt_id: data.prompt_id,
        text: data.text,
        client_submission_id: data.client_submission_id,
        channel: messages.channel || 'web',
        profile: data.profile
      }
    });
    S.outbox.send(data.client_submission_id).then(function (result) {
      submit.disabled = false;
      if (result.state === 'refused') {
        // Stemmer refused it: the text stays in the form with the reason, to correct.
        S.outbox.discard(data.client_submission_id);
        idField.value = S.newId();
        S.showError(form, textarea, S.errorMessage(result, messages.msgFailed));
        return;
      }
      correcting = null;
      showThanks(data, result);
    });
  });

  /* A refused answer back in the form: corrected and sent, it replaces the refused one
   * (which stays on the phone until then). */
  function correct(entry) {
    showForm(entry.body.prompt_id);
    correcting = entry.id;
    textarea.value = entry.body.text;
    Object.keys(entry.body.profile || {}).forEach(function (name) {
      var field = form.querySelector('select[name="' + name + '"]');
      if (field) field.value = entry.body.profile[name];
    });
    count.update(false);
    S.showError(form, textarea, entry.refused.message);
  }

  S.outbox.on(function (type, detail) {
    if (!shown || !detail.entry || detail.entry.id !== shown.id) return;
    var line = slot('status');
    if (type === 'sent') {
      line.textContent = statusText({ state: 'sent', data: detail.data });
      line.classList.remove('is-queued');
    } else if (type === 'refused') {
      line.textContent = messages.msgNotSent + ' ' + S.errorMessage(detail, '');
      line.classList.add('is-queued');
    }
  });

  panel.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button || !shown) return;
    var after = shown.promptId;
    if (button.dataset.action === 'next') showForm(nextPrompt(after));
    else showForm(after);
  });

  enhanceAgree();

  /* "Enig" without reloading the page; the plain form post still works without scripts. */
  function enhanceAgree() {
    document.addEventListener('submit', function (event) {
      var agree = event.target;
      if (!agree.classList || !agree.classList.contains('agree-form')) return;
      event.preventDefault();
      var button = agree.querySelector('button');
      // Pressed again: take the "enig" back.
      var body = new FormData(agree);
      body.set('agreed', button.getAttribute('aria-pressed') === 'true' ? '0' : '1');
      fetch(agree.action, {
        method: 'POST',
        body: body,
        headers: { 'Accept': 'application/json' },
        credentials: 'same-origin'
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (data) {
        Array.prototype.forEach.call(agree.querySelectorAll('.agree-count'), function (count) {
          count.textContent = data.agree_count;
        });
        button.setAttribute('aria-pressed', data.agreed ? 'true' : 'false');
      }).catch(function () {
        agree.submit();
      });
    });
  }

}());
