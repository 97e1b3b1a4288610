/* The phone wall: counter, answers through the offline outbox, thanks in place, "enig". */
(function () {
  'use strict';
  var S = window.Stemmer;
  var form = document.querySelector('form.answer-form');
  if (S) S.registerWorker('/w/');
  var closedForms = S ? enhanceClosedForms() : null;
  if (!form || !S) {
    // A closed wall (no form), or only closed questions: answers kept on this phone are
    // still sent or shown.
    if (S) {
      S.outboxStatus(document.getElementById('outbox'), {
        showTexts: true,
        onEdit: closedForms && closedForms.size ? closedForms.correct : undefined
      });
    }
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
    if (closedForms.correct(entry)) return;
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

  /* Closed questions (a scale, a choice): each has its own form; with scripts its answer
   * goes through the outbox like a written one, and the thanks are said in the form, which
   * is then ready for the next person. The "om dig" values chosen in one form are offered in
   * the others. Returns {size, correct(entry)}: correct puts a refused answer back. */
  function enhanceClosedForms() {
    var forms = Array.prototype.slice.call(document.querySelectorAll('form.closed-form'));
    forms.forEach(enhanceClosed);
    shareProfile(forms);
    return {
      size: forms.length,
      correct: function (entry) {
        var target = forms.filter(function (f) {
          return parseInt(f.dataset.prompt, 10) === entry.body.prompt_id;
        })[0];
        if (!target) return false;
        target.closedApi.restore(entry);
        return true;
      }
    };
  }

  function enhanceClosed(closed) {
    var data = closed.dataset;
    var prefix = data.prefix;
    var idField = closed.querySelector('input[name="' + prefix + 'client_submission_id"]');
    var text = closed.querySelector('textarea');
    var submitButton = closed.querySelector('button[type="submit"]');
    var thanks = closed.querySelector('[data-slot="thanks"]');
    var boxes = Array.prototype.slice.call(closed.querySelectorAll('.option-list input'));
    var correcting = null;
    idField.value = S.newId();

    function checked() { return boxes.filter(function (b) { return b.checked; }); }

    function value() {
      var ids = checked().map(function (b) { return b.value; });
      if (!ids.length) return null;
      if (data.kind === 'multiple') return ids;
      return data.kind === 'scale' ? parseInt(ids[0], 10) : ids[0];
    }

    function summary() {
      return checked().map(function (b) {
        var label = closed.querySelector('label[for="' + b.id + '"] .option-label');
        return label ? label.textContent.trim() : b.value;
      }).join(', ');
    }

    function clearError() {
      Array.prototype.forEach.call(closed.querySelectorAll('.field-error'), function (el) {
        el.parentNode.removeChild(el);
      });
      var summaryBox = closed.querySelector('.error-summary');
      if (summaryBox) summaryBox.parentNode.removeChild(summaryBox);
      if (text) text.setAttribute('aria-invalid', 'false');
    }

    function showError(message, field) {
      clearError();
      var error = document.createElement('p');
      error.className = 'field-error';
      error.setAttribute('role', 'alert');
      error.textContent = message;
      var where = field && field.tagName === 'TEXTAREA' ? field.parentNode : closed.querySelector('fieldset');
      where.appendChild(error);
      if (field && field.tagName === 'TEXTAREA') field.setAttribute('aria-invalid', 'true');
      (field || boxes[0]).focus();
    }

    closed.addEventListener('change', function () { thanks.hidden = true; });

    closed.addEventListener('submit', function (event) {
      event.preventDefault();
      var chosen = value();
      var written = text ? text.value : '';
      if (chosen === null && !S.length(written)) {
        showError(data.msgChoose, null);
        return;
      }
      if (text && S.length(written) > 1000) {
        showError(data.msgTooLong, text);
        return;
      }
      clearError();
      var profile = {};
      ['role', 'age_group', 'area'].forEach(function (name) {
        var field = closed.querySelector('select[name="' + prefix + name + '"]');
        if (field && field.value) profile[name] = field.value;
      });
      var id = idField.value;
      var body = {
        prompt_id: parseInt(data.prompt, 10),
        client_submission_id: id,
        channel: data.channel || 'web',
        profile: profile
      };
      if (chosen !== null) body.value = chosen;
      if (S.length(written)) body.text = written;
      var words = summary();
      S.outbox.add({
        id: id,
        url: data.api,
        headers: { 'Content-Language': data.lang },
        replaces: correcting,
        summary: words,
        body: body
      });
      submitButton.disabled = true;
      S.outbox.send(id).then(function (result) {
        submitButton.disabled = false;
        if (result.state === 'refused') {
          S.outbox.discard(id);
          idField.value = S.newId();
          showError(S.errorMessage(result, data.msgFailed), null);
          return;
        }
        correcting = null;
        // Thanks in the form, which starts over (a new id) for the next answer.
        boxes.forEach(function (b) { b.checked = false; });
        if (text) text.value = '';
        idField.value = S.newId();
        var said = words ? data.msgThanks.replace('{answer}', words) : data.msgThanksText;
        if (result.state === 'queued') {
          said += ' ' + (result.reason === 'busy' ? data.msgKeptBusy
            : result.reason === 'unreachable' ? data.msgKeptUnreachable : data.msgKept);
        }
        thanks.textContent = said;
        thanks.hidden = false;
      });
    });

    closed.closedApi = {
      restore: function (entry) {
        var sent = entry.body.value;
        var ids = Array.isArray(sent) ? sent.map(String) : sent == null ? [] : [String(sent)];
        boxes.forEach(function (b) { b.checked = ids.indexOf(b.value) !== -1; });
        if (text) text.value = entry.body.text || '';
        Object.keys(entry.body.profile || {}).forEach(function (name) {
          var field = closed.querySelector('select[name="' + prefix + name + '"]');
          if (field) field.value = entry.body.profile[name];
        });
        correcting = entry.id;
        thanks.hidden = true;
        closed.scrollIntoView({ block: 'start' });
        showError(entry.refused.message, null);
      }
    };
  }

  /* An "om dig" answer given in one form is put into the same question of the others that
   * have none yet (a parent answering three questions says "Forælder" once). */
  function shareProfile(forms) {
    var all = forms.concat(form ? [form] : []);
    document.addEventListener('change', function (event) {
      var select = event.target;
      var holder = select.closest && select.closest('[data-profile-field]');
      if (!holder || !select.value) return;
      var name = holder.dataset.profileField;
      all.forEach(function (other) {
        if (other.contains(select)) return;
        var field = other.querySelector('[data-profile-field="' + name + '"] select');
        if (field && !field.value && Array.prototype.some.call(field.options, function (o) {
          return o.value === select.value;
        })) {
          field.value = select.value;
          field.dispatchEvent(new Event('change', { bubbles: false }));
        }
      });
    });
  }

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
