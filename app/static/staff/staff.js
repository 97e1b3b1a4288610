/* Stemmer staff workspace: design-system components and the moderation queue's keyboard
 * shortcuts. No inline scripts: this file is loaded with `defer`. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");
  if (window.DKFDS && typeof window.DKFDS.init === "function") {
    window.DKFDS.init();
  }

  // Filters: submit the form when a select or checkbox changes; a new campaign resets the
  // wall and question, a new wall resets the question.
  document.querySelectorAll("[data-autosubmit]").forEach(function (control) {
    control.addEventListener("change", function () {
      var form = control.form;
      var resets = { campaign: ["wall", "prompt"], wall: ["prompt"] }[control.name] || [];
      resets.forEach(function (name) {
        var other = form.elements.namedItem(name);
        if (other) other.value = "";
      });
      form.requestSubmit();
    });
  });

  var queue = document.querySelector("[data-moderation-queue]");
  if (!queue) return;
  var cards = Array.prototype.slice.call(queue.querySelectorAll("[data-answer-card]"));
  var current = -1;

  function focusCard(index) {
    if (!cards.length) return;
    index = Math.max(0, Math.min(cards.length - 1, index));
    if (cards[current]) cards[current].classList.remove("is-current");
    current = index;
    cards[current].classList.add("is-current");
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest" });
  }

  // Start on the card named in the address (after an action), else on the first.
  var start = 0;
  if (window.location.hash) {
    var target = document.getElementById(window.location.hash.slice(1));
    if (target && cards.indexOf(target) >= 0) start = cards.indexOf(target);
  }
  if (cards.length) focusCard(start);
  cards.forEach(function (card, index) {
    card.addEventListener("focusin", function () {
      if (current !== index) {
        if (cards[current]) cards[current].classList.remove("is-current");
        current = index;
        card.classList.add("is-current");
      }
    });
  });

  // Select all for bulk actions.
  var selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      queue.querySelectorAll("[data-select]").forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  // Redaction of a selected span: offsets in Unicode code points, like the server's.
  function codePoints(text) {
    return Array.from(text).length;
  }
  function offsetIn(container, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(container);
    range.setEnd(node, offset);
    return codePoints(range.toString());
  }
  function updateSelection() {
    var selection = window.getSelection();
    cards.forEach(function (card) {
      var form = card.querySelector("[data-redact-form]");
      if (!form) return;
      var button = form.querySelector("[data-redact-selection]");
      var textElement = card.querySelector("[data-answer-text]");
      var ok = false;
      if (selection && selection.rangeCount && !selection.isCollapsed) {
        var range = selection.getRangeAt(0);
        if (textElement.contains(range.startContainer) && textElement.contains(range.endContainer)) {
          var startOffset = offsetIn(textElement, range.startContainer, range.startOffset);
          var endOffset = offsetIn(textElement, range.endContainer, range.endOffset);
          if (endOffset > startOffset) {
            form.querySelector("[data-start]").value = String(startOffset);
            form.querySelector("[data-end]").value = String(endOffset);
            ok = true;
          }
        }
      }
      button.disabled = !ok;
    });
  }
  document.addEventListener("selectionchange", updateSelection);

  function press(card, selector) {
    var button = card.querySelector(selector);
    if (button && !button.disabled) {
      button.form.requestSubmit(button);
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      if (!(tag === "INPUT" && target.type === "checkbox")) return;
    }
    var card = cards[current];
    var handled = true;
    switch (event.key) {
      case "j": focusCard(current + 1); break;
      case "k": focusCard(current - 1); break;
      case "a": handled = card ? press(card, '[data-action="approve"]') : false; break;
      case "h": handled = card ? press(card, '[data-action="hide"]') : false; break;
      case "u": handled = card ? press(card, '[data-action="pending"]') : false; break;
      case "r":
        handled = cards.some(function (each) { return press(each, "[data-redact-selection]"); });
        break;
      case "x":
        if (card) {
          var box = card.querySelector("[data-select]");
          if (box) box.checked = !box.checked;
        }
        break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });
})();
