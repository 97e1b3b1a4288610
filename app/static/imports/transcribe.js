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

  // A note takes its place in the list at once, in the order it was typed; the server's
  // version replaces it when saved (answers may come back in another order).
  function placeholder(text) {
    var item = document.createElement("li");
    item.className = "note-sending";
    item.setAttribute("aria-busy", "true");
    var body = document.createElement("p");
    body.textContent = text;
    item.appendChild(body);
    list.insertBefore(item, list.firstElementChild);
    while (list.children.length > limit) list.removeChild(list.lastElementChild);
    return item;
  }

  function settle(item, html) {
    if (!item.parentNode) return; // scrolled out of the last ten while it was being sent
    if (html) item.insertAdjacentHTML("beforebegin", html);
    item.parentNode.removeChild(item);
  }

  function send(data, text) {
    var item = placeholder(text);
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
          settle(item, null);
          failed(text, result.body.error || form.getAttribute("data-error-message"));
          return;
        }
        var shown = document.getElementById("note-" + result.body.id);
        settle(item, shown ? null : result.body.html);
        say(result.body.message, false);
      })
      .catch(function () {
        sending -= 1;
        settle(item, null);
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
