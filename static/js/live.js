// Live / reconnecting / offline indicator for the dashboard's event stream (htmx-ext-sse events).
(function () {
  "use strict";
  function show(state) {
    var badge = document.getElementById("live-status");
    if (!badge) return;
    badge.textContent = state;
    badge.className = "status status-" + state;
  }
  document.addEventListener("htmx:sseOpen", function () { show("live"); });
  document.addEventListener("htmx:sseError", function () {
    show(navigator.onLine === false ? "offline" : "reconnecting");
  });
  document.addEventListener("htmx:sseClose", function () { show("offline"); });
  window.addEventListener("offline", function () { show("offline"); });
  // A form refused with 400 comes back with its problems listed: show them.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[sse-connect]")) show("reconnecting");
    var switcher = document.querySelector(".switcher select");
    if (switcher) switcher.addEventListener("change", function () { switcher.form.submit(); });
  });
})();
