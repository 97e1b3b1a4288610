/* The poster's print button (the browser's own print works without it). */
(function () {
  'use strict';
  var button = document.querySelector('[data-action="print"]');
  if (!button || !window.print) return;
  button.hidden = false;
  button.addEventListener('click', function () { window.print(); });
}());
