// Imprimatur: the only script besides htmx (CSP forbids inline script).
(function () {
  "use strict";

  // Ask before a step that cannot be taken back (data-confirm on a submit button or form).
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter || null;
    var message = (submitter && submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Assigning a reviewer: carry the shared "due" field into the form being sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("assign-form")) { return; }
    var due = document.getElementById("assign-due");
    var copy = form.querySelector("[data-due-copy]");
    if (due && copy) { copy.value = due.value; }
  });

  // After a refused save, take keyboard and screen-reader users to the list of problems.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("form-errors");
    if (summary) { summary.focus(); }
  });

  // The audience switch submits itself when a reader picks another audience.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-autosubmit]")) {
      target.form.requestSubmit();
    }
  });
})();
