// The start panel shows only the chosen sweep type's options; without JavaScript every type's fieldset shows
// and the server reads the chosen type's. A hidden fieldset is also disabled, so its fields are not sent.
(function () {
  "use strict";

  function sync(form) {
    var select = form.querySelector('select[name="type"]');
    if (!select) return;
    form.querySelectorAll("fieldset[data-planner]").forEach(function (fieldset) {
      var chosen = fieldset.getAttribute("data-planner") === select.value;
      fieldset.hidden = !chosen;
      fieldset.disabled = !chosen;
    });
  }

  function syncWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("form.sweep-form")) sync(root);
    root.querySelectorAll("form.sweep-form").forEach(sync);
  }

  // Capturing: the fieldsets change before htmx, listening on the form, gathers the estimate's parameters.
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form.sweep-form");
    if (form && event.target.name === "type") sync(form);
  }, true);
  document.addEventListener("htmx:load", function (event) { syncWithin(event.target); });
  document.addEventListener("DOMContentLoaded", function () { syncWithin(document); });
})();
