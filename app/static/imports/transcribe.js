/* Typing in paper notes: Enter saves in the background, the field empties at once and keeps
 * the focus, so nothing typed while a note is being sent is lost. Loaded with `defer`. */
(function () {
  "use strict";

  var form = document.querySelector("[data-transcribe]");
  if (!form || !window.fetch || !window.FormData) return;
  var input = form.elements.namedItem("text");
  var submissionId = form.elements.namedItem("client_submission_id");
  var list = document.getElementById("notes");
  var status = document.getElementById("note-status");
  var limit = parseInt(list.getAttribute("data-limit"), 10) || 10;
  var sending = 0;

  function newSubmissionId() {
    var random = window.crypto && window.crypto.randomUUID
      ? window.crypto.randomUUID().replace(/-/g, "")
      : Date.now().toString(16) + Math.random().toString(16).slice(2);
    return "paper-" + random;
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function failed(text, message) {
    // Never lose a note: put it back when the field is empty, else keep it in the message.
    if (!input.value) {
      input.value = text;
      say(message, true);
    } else {
      say(message + " “" + text + "”", true);
    }
  }

  function send(data, text) {
    sending += 1;
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(
          function (body) { return { ok: response.ok, body: body }; },
          function () { return { ok: false, body: {} }; }
        );
      })
      .then(function (result) {
        sending -= 1;
        if (!result.ok) {
          failed(text, result.body.error || form.getAttribute("data-error-message"));
          return;
        }
        if (!document.getElementById("note-" + result.body.id)) {
          list.insertAdjacentHTML("afterbegin", result.body.html);
          while (list.children.length > limit) list.removeChild(list.lastElementChild);
        }
        say(result.body.message, false);
      })
      .catch(function () {
        sending -= 1;
        failed(text, form.getAttribute("data-error-message"));
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    var data = new FormData(form);
    submissionId.value = newSubmissionId();
    input.value = "";
    input.focus();
    send(data, text);
  });

  window.addEventListener("beforeunload", function (event) {
    if (sending > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
