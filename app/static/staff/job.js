/* A background job's page (staff/job.html): ask for its progress every second, show it, and
 * reload the page when the job has ended (the server shows the result or the error). */
(function () {
  "use strict";

  var box = document.querySelector("[data-job]");
  if (!box || box.hasAttribute("data-job-finished")) return;
  var url = box.getAttribute("data-job-status-url");
  var bar = box.querySelector("[data-job-bar]");
  var count = box.querySelector("[data-job-count]");
  var timeLeft = box.querySelector("[data-job-time-left]");
  var message = box.querySelector("[data-job-message]");

  function show(state) {
    if (state.finished) {
      window.location.reload();
      return;
    }
    if (bar && state.total) {
      bar.max = state.total;
      bar.value = state.done;
    }
    if (count) count.textContent = state.count;
    if (timeLeft) timeLeft.textContent = state.time_left;
    if (message && state.message) message.textContent = state.message;
    window.setTimeout(poll, 1000);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(show)
      .catch(function () {
        window.setTimeout(poll, 5000);  // offline or restarting: try again a little later
      });
  }

  window.setTimeout(poll, 1000);
})();
