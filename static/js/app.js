// Kundeweb's only script: progressive enhancements, no inline handlers (the CSP allows none).
(function () {
  "use strict";

  // The phone menu: a button that folds the main navigation.
  var button = document.querySelector(".nav-toggle");
  if (button) {
    document.documentElement.classList.add("js");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      document.getElementById("mainnav").classList.toggle("open", open);
    });
  }

  // <select data-autosubmit>: choosing an option submits its form (creditor, language).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // <input data-select-on-focus>: a new key or secret is selected for copying.
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // <input type=checkbox data-select-all="name">: ticks or clears every box of that name.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.addEventListener("click", function () {
      var name = all.getAttribute("data-select-all");
      document.querySelectorAll("input[name='" + name + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
